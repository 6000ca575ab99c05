"""``conflict-spans validate``: every rule code can check, reported with file, line,
record id, span text and fix; exit 1 on any error, 0 when clean."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conflict_spans.cli import main
from conflict_spans.corpus.validate import validate_paths

from conftest import REPO_ROOT, TESTS_DIR

BROKEN = TESTS_DIR / "data" / "broken_records.jsonl"
SOURCES = TESTS_DIR / "data" / "sources"
TEXT = "Drones hit Odesa at dawn, officials said."


def record(doc_id: str = "r-001", text: str = TEXT, spans=None, **extra) -> dict:
    spans = [{"start": 11, "end": 16, "label": "LOCATION"}] if spans is None else spans
    return {"id": doc_id, "text": text, "spans": spans, **extra}


def write_jsonl(path: Path, *records) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records), encoding="utf-8")
    return path


def validate(capsys, *paths) -> tuple[int, str, str]:
    code = main(["validate", *map(str, paths)])
    out = capsys.readouterr()
    return code, out.out, out.err


# ---- the bundled corpus, as a user runs it ---------------------------------------------

@pytest.mark.parametrize("target", ["corpus/src", "corpus/data", "corpus"])
def test_the_bundled_corpus_validates_clean(run_cli, target):
    result = run_cli("validate", target)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ documents checked: 0 errors, 0 warnings\n", result.stdout)
    assert result.stderr == ""


# ---- a file of broken records: each one is named ---------------------------------------

# (line, record id or None, problem code, fragment naming the value or span)
EXPECTED_IN_BROKEN = [
    (2, None, "json", "malformed JSON"),
    (3, "missing-spans-001", "missing-key", "no 'spans' key"),
    (4, "offsets-001", "offsets", "[20, 80) fall outside the text (length 39)"),
    (5, "reversed-001", "offsets", "empty or reversed: start 42 >= end 33"),
    (6, "overlap-001", "overlap", "'Rapid Support' [4, 17) and ACTOR 'Support Forces' [10, 24)"),
    (7, "unknown-label-001", "unknown-label", "WEAPON 'Houthi drones'"),
    (8, "span-text-001", "span-text", "'Rafah' disagrees with text[start:end] 'Khan Younis'"),
    (9, "edge-period-001", "edge-punct", "'Gaza.'"),
    (10, "edge-space-001", "edge-space", "' Tripoli'"),
    (11, "word-boundary-001", "word-boundary", "'Maidug'"),
    (12, "status-missing-001", "status", "CASUALTY '9 soldiers' [18, 28) needs a status"),
    (13, "status-location-001", "status", "LOCATION 'Mogadishu base'"),
    (14, "bom-001", "bom", "byte-order mark"),
    (16, "near-dup-001", "near-duplicate", "'near-dup-001' and 'near-dup-002' are near-duplicates"),
    (18, "meta-001", "meta", "unknown conflict code", "WARNING"),  # a user's own codes: a warning (bundled corpus: error)
    (18, "meta-001", "meta", "unknown genre", "WARNING"),
    (18, "meta-001", "meta", "date must be YYYY-MM-DD"),
    (None, "clean-001", "duplicate-id", "broken_records.jsonl:1; tests/data/broken_records.jsonl:15"),
]


def test_validate_names_every_broken_record_with_file_line_id_and_fix(run_cli):
    result = run_cli("validate", "tests/data/broken_records.jsonl")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == len(EXPECTED_IN_BROKEN), result.stderr
    for line, record_id, code, fragment, *severity in EXPECTED_IN_BROKEN:
        level = severity[0] if severity else "ERROR"
        where = "tests/data/broken_records.jsonl" + (f":{line}" if line else "")
        head = f"{level} [{code}] {where}" + (f" record {record_id!r}" if record_id and line else "")
        if not line:
            head = f"{level} [{code}] record {record_id!r}"
        matching = [text for text in lines if text.startswith(head) and fragment in text]
        assert len(matching) == 1, f"no single problem for line {line} ({code}, {fragment!r}) in:\n{result.stderr}"
        assert " Fix: " in matching[0]
    warnings = sum(1 for e in EXPECTED_IN_BROKEN if e[4:] == ("WARNING",))
    assert result.stdout.endswith(f"documents checked: {len(EXPECTED_IN_BROKEN) - warnings} errors, {warnings} warnings\n")


def test_the_first_record_of_the_broken_file_is_clean_apart_from_its_duplicate_id():
    problems, _ = validate_paths([BROKEN])
    assert {p.code for p in problems if p.record == "clean-001"} == {"duplicate-id"}


# ---- bad input: each case its own clear message and exit 1 -----------------------------

BAD_INPUT = [
    # (name, file content, message fragment)
    ("malformed JSON", '{"id": "r-001", "text": "Drones hit Odesa", "spans": [\n', "malformed JSON (Expecting value at column 55)"),
    ("missing keys", json.dumps({"id": "r-001", "spans": []}) + "\n", "record has no 'text' key"),
    ("offsets past the text", json.dumps(record(spans=[{"start": 11, "end": 90, "label": "LOCATION"}])) + "\n", "offsets [11, 90) fall outside the text (length 41)"),
    ("reversed span", json.dumps(record(spans=[{"start": 16, "end": 11, "label": "LOCATION"}])) + "\n", "empty or reversed: start 16 >= end 11"),
    ("overlapping spans", json.dumps(record(spans=[{"start": 0, "end": 10, "label": "ACTOR"}, {"start": 7, "end": 16, "label": "LOCATION"}])) + "\n",
     "spans overlap: ACTOR 'Drones hit' [0, 10) and LOCATION 'hit Odesa' [7, 16)"),
    ("unknown label", json.dumps(record(spans=[{"start": 11, "end": 16, "label": "CITY"}])) + "\n", "unknown label on span CITY 'Odesa'"),
    ("span text disagrees with the offsets", json.dumps(record(spans=[{"start": 11, "end": 16, "label": "LOCATION", "text": "Kyiv"}])) + "\n",
     "text 'Kyiv' disagrees with text[start:end] 'Odesa'"),
    ("BOM at the start of the text", json.dumps(record(text="\ufeff" + TEXT, spans=[])) + "\n", "text starts with a byte-order mark"),
    ("empty file", "", "file is empty"),
    ("whitespace-only file", "\n  \n", "file is empty"),
    ("top-level array", json.dumps([record()]) + "\n", "record is not a JSON object"),
]


@pytest.mark.parametrize("name, content, fragment", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_one_clear_error_and_exit_1(tmp_path, capsys, name, content, fragment):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    code, out, err = validate(capsys, path)
    assert code == 1
    errors = err.splitlines()
    assert len(errors) == 1, err
    assert errors[0].startswith(f"ERROR [") and str(path) in errors[0] and fragment in errors[0] and " Fix: " in errors[0]
    assert out.endswith("1 errors, 0 warnings\n")


def test_a_file_that_is_not_utf8_is_an_error(tmp_path, capsys):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(record(text="Caf\u00e9 bombed", spans=[]), ensure_ascii=False).encode("latin-1") + b"\n")
    code, _, err = validate(capsys, path)
    assert code == 1 and "not valid UTF-8" in err


def test_a_bom_at_the_start_of_the_file_is_read_as_utf8_sig(tmp_path, capsys):
    path = tmp_path / "bom.jsonl"
    path.write_text("\ufeff" + json.dumps(record()) + "\n", encoding="utf-8")
    assert validate(capsys, path) == (0, "1 documents checked: 0 errors, 0 warnings\n", "")


def test_a_missing_path_is_an_error(tmp_path, capsys):
    code, _, err = validate(capsys, tmp_path / "nope.jsonl")
    assert code == 1 and "no such file or folder" in err


def test_an_empty_folder_is_an_error_not_a_clean_pass(tmp_path, capsys):
    code, _, err = validate(capsys, tmp_path)
    assert code == 1 and "folder has no corpus files" in err


def test_a_clean_file_exits_0(tmp_path, capsys):
    path = write_jsonl(tmp_path / "ok.jsonl", record(), record("r-002", "Gunmen killed 12 people in Goma.", [{"start": 0, "end": 6, "label": "ACTOR"},
                                                                                                        {"start": 14, "end": 23, "label": "CASUALTY", "status": "killed"}]))
    code, out, err = validate(capsys, path)
    assert (code, out, err) == (0, "2 documents checked: 0 errors, 0 warnings\n", "")


# ---- ids and near-duplicates across files and splits -------------------------------------

STORY = ("The United Nations said on Monday that fighting between the army and the paramilitary group had forced "
         "more than forty thousand people to flee their homes in the past week, most of them women and children "
         "who crossed into neighbouring Chad with few belongings.")
REWRITE = STORY.replace("on Monday", "on Tuesday").replace("past week", "past ten days")


def test_duplicate_ids_across_the_files_of_a_folder_name_both_places(tmp_path, capsys):
    a = write_jsonl(tmp_path / "train.jsonl", record("r-001"))
    b = write_jsonl(tmp_path / "test.jsonl", record("r-001", "Gunmen attacked Bunia.", []))
    code, _, err = validate(capsys, tmp_path)
    assert code == 1
    assert "[duplicate-id]" in err and "record 'r-001'" in err and f"{a}:1" in err and f"{b}:1" in err


def test_near_duplicate_texts_across_splits_are_errors(tmp_path, capsys):
    write_jsonl(tmp_path / "train.jsonl", record("un-001", STORY, []))
    write_jsonl(tmp_path / "test.jsonl", record("un-002", REWRITE, []))
    code, _, err = validate(capsys, tmp_path)
    assert code == 1
    assert "[near-duplicate]" in err and "'un-001' and 'un-002' are near-duplicates across splits" in err


def test_identical_texts_are_errors_even_in_one_story_group(tmp_path, capsys):
    path = write_jsonl(tmp_path / "train.jsonl", record("un-001", STORY, [], meta={"group": "un"}), record("un-002", STORY, [], meta={"group": "un"}))
    code, _, err = validate(capsys, path)
    assert code == 1 and "are identical" in err


def test_near_duplicates_in_one_story_group_are_a_warning(tmp_path, capsys):
    path = write_jsonl(tmp_path / "train.jsonl", record("un-001", STORY, [], meta={"group": "un"}), record("un-002", REWRITE, [], meta={"group": "un"}))
    code, out, err = validate(capsys, path)
    assert code == 0
    assert err.startswith("WARNING [near-duplicate]") and out.endswith("0 errors, 1 warnings\n")


def test_texts_that_merely_share_phrases_are_not_near_duplicates(tmp_path, capsys):
    other = ("Fighting between the army and the paramilitary group resumed in Kordofan on Friday, residents said, "
             "as aid agencies warned that food stocks in the region would run out within weeks.")
    path = write_jsonl(tmp_path / "train.jsonl", record("un-001", STORY, []), record("kd-001", other, []))
    assert validate(capsys, path)[0] == 0


# ---- authoring sources ---------------------------------------------------------------------

@pytest.fixture
def sources(tmp_path) -> Path:
    out = tmp_path / "src"
    shutil.copytree(SOURCES, out)
    return out


def test_the_test_sources_are_clean(sources, capsys):
    assert validate(capsys, sources)[0] == 0


def test_a_markup_error_names_the_source_file_and_line(sources, capsys):
    path = sources / "sudan" / "sudan-902.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("[Omdurman]{LOC} before", "[Omdurman]{LCO} before"), encoding="utf-8")
    code, _, err = validate(capsys, sources)
    assert code == 1
    assert f"ERROR [markup] {path}:11 record 'sudan-902': unknown label code 'LCO'" in err


def test_a_span_error_in_a_source_names_the_file_and_span(sources, capsys):
    path = sources / "ukraine" / "ukraine-901.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("[Odesa]{LOC} overnight", "[Odesa ]{LOC}overnight"), encoding="utf-8")
    code, _, err = validate(capsys, sources)
    assert code == 1
    assert f"ERROR [edge-space] {path} record 'ukraine-901': span LOCATION 'Odesa '" in err


@pytest.mark.parametrize("edit, fragment, level", [
    (("id: sudan-901", "id: sudan-991"), "id does not match the file name 'sudan-901'", "ERROR"),
    # a user's own sources may leave out meta or use their own codes: warnings (the bundled corpus: errors)
    (("country: Sudan\n", ""), "source file has no 'country' in its header", "WARNING"),
    (("conflict: sudan", "conflict: atlantis"), "unknown conflict code", "WARNING"),
    (("genre: brief", "genre: blog"), "unknown genre", "WARNING"),
    (("date: 2024-06-02", "date: June 2"), "date must be YYYY-MM-DD", "ERROR"),
])
def test_source_headers_are_checked(sources, capsys, edit, fragment, level):
    path = sources / "sudan" / "sudan-901.txt"
    path.write_text(path.read_text(encoding="utf-8").replace(*edit, 1), encoding="utf-8")
    code, _, err = validate(capsys, sources)
    assert code == (1 if level == "ERROR" else 0) and fragment in err and str(path) in err
    assert any(line.startswith(level) and fragment in line for line in err.splitlines())


def test_problems_are_listed_in_file_order(capsys):
    problems, _ = validate_paths([BROKEN])
    lines = [p.line for p in problems if p.line is not None]
    assert lines == sorted(lines)


def test_a_folder_of_sources_and_jsonl_is_one_collection_with_unique_ids(sources, capsys):
    write_jsonl(sources / "extra.jsonl", record("sudan-901", "Gunmen attacked Bunia on Sunday.", []))
    code, _, err = validate(capsys, sources)
    assert code == 1 and "[duplicate-id] record 'sudan-901'" in err


def test_each_path_argument_is_its_own_collection(sources, tmp_path, capsys):
    """corpus/src and corpus/data hold the same documents twice; that is not a duplicate."""
    jsonl = write_jsonl(tmp_path / "extra.jsonl", record("sudan-901", "Gunmen attacked Bunia on Sunday.", []))
    assert validate(capsys, sources, jsonl)[0] == 0


def test_repo_root_is_where_the_corpus_is():
    assert (REPO_ROOT / "corpus" / "src").is_dir()
