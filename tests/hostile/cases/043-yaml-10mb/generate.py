"""A 10 MB record: refused by size before any parsing."""

from pathlib import Path


def generate(root: Path) -> None:
    record = root / "papers/example2023quantizing.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text + "summary2: |\n" + ("  " + "x" * 98 + "\n") * 104_858, encoding="utf-8")
