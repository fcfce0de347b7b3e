"""A record one byte over the 64 KiB cap."""

from pathlib import Path


def generate(root: Path) -> None:
    record = root / "papers/example2023quantizing.yaml"
    text = record.read_text(encoding="utf-8") + "# "
    record.write_text(text + "x" * (64 * 1024 + 1 - len(text.encode())), encoding="utf-8")
