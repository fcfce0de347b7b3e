"""A record that is a symbolic link to a file outside the knowledge base (git can carry one in a
pull request): efflit must not read it, or its messages echo what the file holds."""

import os
from pathlib import Path


def generate(root: Path) -> None:
    (root.parent / "secret.yaml").write_text("aws_secret_access_key: hunter2\n", encoding="utf-8")
    os.symlink("../../secret.yaml", root / "papers/leak.yaml")
