"""The README's casualty-records block is what conflict_spans.records.readme renders from the bundled corpus."""

from __future__ import annotations

from pathlib import Path

from conflict_spans.records import readme

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_records_block_is_generated():
    text = README.read_text(encoding="utf-8")
    block = text.split(readme.BEGIN, 1)[1].split(readme.END, 1)[0]
    assert readme.BEGIN + block + readme.END == readme.render_bundled(), "run: python -m conflict_spans.records.readme README.md"


def test_every_column_is_documented_in_the_block():
    from conflict_spans.records.extract import COLUMNS

    rendered = readme.render_bundled()
    assert all(f"| `{column}` |" in rendered for column in COLUMNS)
