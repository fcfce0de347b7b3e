"""The knowledge base's pyproject.toml, written here: kept in the tree, a pyproject.toml would be
read as configuration by tools that walk the repository (ruff fails on a broken one)."""

from pathlib import Path

PYPROJECT = '[tool.efflit]\ntitle = "efflit <script>alert(1)</script><img src=x onerror=alert(2)>\\"\'><svg onload=alert(3)>"\ndescription = "</title><script>alert(1)</script>"\nrepository = "https://github.com/example/kb\\"><script>alert(2)</script>"\nbranch = "main\\"><script>alert(3)</script>"\n'


def generate(root: Path) -> None:
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
