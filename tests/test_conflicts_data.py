"""Conflicts are data: the bundled corpus keeps to corpus/conflicts.json strictly; a user's file may use its own codes."""

from __future__ import annotations

import json

from conflict_spans.corpus.conflicts import load_conflicts
from conflict_spans.corpus.validate import check_meta
from conflict_spans.document import Document
from conflict_spans.paths import CORPUS_DIR


def record(conflict: str, genre: str = "wire") -> Document:
    return Document("x-001", "Shelling hit the town.", [], {"conflict": conflict, "genre": genre, "country": "X"})


def test_the_list_has_codes_names_and_years():
    conflicts = load_conflicts()
    assert len(conflicts) >= 40
    assert all(c.first_year <= c.last_year for c in conflicts.values())
    assert sum(1 for c in conflicts.values() if c.first_year >= 1990 and c.last_year <= 2019) >= 10


def test_unknown_conflict_in_a_users_file_is_a_warning(tmp_path):
    problems = check_meta(record("atlantis"), str(tmp_path / "mine.jsonl"), 1)
    assert [(p.code, p.severity) for p in problems] == [("meta", "warning")]
    assert "conflicts.json" in problems[0].fix and "schema.py" not in problems[0].fix


def test_unknown_genre_in_a_users_file_is_a_warning(tmp_path):
    problems = check_meta(record("sudan", genre="podcast"), str(tmp_path / "mine.jsonl"), 1)
    assert [(p.code, p.severity) for p in problems] == [("meta", "warning")]


def test_unknown_conflict_in_the_bundled_corpus_is_an_error():
    problems = check_meta(record("atlantis"), str(CORPUS_DIR / "data" / "train.jsonl"), 1)
    assert [(p.code, p.severity) for p in problems] == [("meta", "error")]


def test_a_users_clean_file_with_its_own_conflict_passes_validate(run_cli, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(record("atlantis").to_dict()) + "\n", encoding="utf-8")
    result = run_cli("validate", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unknown conflict code" in result.stdout + result.stderr
