"""The knowledge base's pyproject.toml, written here: kept in the tree, a pyproject.toml would be
read as configuration by tools that walk the repository (ruff fails on a broken one)."""

from pathlib import Path

PYPROJECT = (
    '[tool.efflit]\ntitle = "efflit test KB"\nrepository = "javascript:alert(1)"\nbase_url = "data:text/html,x"\n'
)


def generate(root: Path) -> None:
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
