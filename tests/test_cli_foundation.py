"""The foundation commands: --help, build, stats, markup. Bad input gives one clear
message, exit 1, and leaves every output as it was. All writes go to temporary
folders through --src/--out/--splits; corpus/ is never written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conflict_spans.cli import main
from conflict_spans.corpus.io import read_documents
from conflict_spans.schema import SPLITS

from conftest import TESTS_DIR

SOURCES = TESTS_DIR / "data" / "sources"
FOUNDATION_COMMANDS = ["validate", "stats", "build", "markup", "conll"]


# ---- --help ----------------------------------------------------------------------------

def test_top_level_help_lists_the_foundation_commands(run_cli):
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: conflict-spans")
    for command in FOUNDATION_COMMANDS:
        assert f"    {command} " in result.stdout


@pytest.mark.parametrize("command", FOUNDATION_COMMANDS)
def test_each_foundation_command_has_help(run_cli, command):
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: conflict-spans {command}")


def test_no_command_is_a_usage_error(run_cli):
    result = run_cli()
    assert result.returncode == 2 and "usage:" in result.stderr


# ---- build -------------------------------------------------------------------------------

@pytest.fixture
def workspace(tmp_path) -> dict[str, Path]:
    src = tmp_path / "src"
    shutil.copytree(SOURCES, src)
    return {"src": src, "out": tmp_path / "data", "splits": tmp_path / "splits.json"}


def build(ws: dict[str, Path]) -> int:
    return main(["build", "--src", str(ws["src"]), "--out", str(ws["out"]), "--splits", str(ws["splits"])])


def outputs(ws: dict[str, Path]) -> list[Path]:
    return [ws["splits"]] + [ws["out"] / f"{split}.jsonl" for split in SPLITS]


def snapshot(ws: dict[str, Path]) -> dict[Path, tuple[bytes, int]]:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in outputs(ws) if p.exists()}


def test_build_writes_one_file_per_split_and_the_assignment(workspace, run_cli):
    result = run_cli("build", "--src", workspace["src"], "--out", workspace["out"], "--splits", workspace["splits"])
    assert result.returncode == 0, result.stderr
    assert all(p.exists() for p in outputs(workspace))
    by_split = {split: read_documents(workspace["out"] / f"{split}.jsonl") for split in SPLITS}
    assert result.stdout == ", ".join(f"{s}: {len(d)} documents" for s, d in by_split.items()) + "\n"
    ids = sorted(d.id for docs in by_split.values() for d in docs)
    assert ids == sorted(p.stem for p in SOURCES.rglob("*.txt"))
    assert {d.meta["conflict"] for d in by_split["test"]} >= {"sudan", "ukraine"}  # conflicts with >= 4 groups
    assert set(json.loads(workspace["splits"].read_text(encoding="utf-8"))["groups"]) == set(ids)


def test_build_is_idempotent(workspace):
    assert build(workspace) == 0
    first = {p: p.read_bytes() for p in outputs(workspace)}
    assert build(workspace) == 0
    assert {p: p.read_bytes() for p in outputs(workspace)} == first


def test_a_new_source_never_moves_an_old_story(workspace):
    assert build(workspace) == 0
    before = json.loads(workspace["splits"].read_text(encoding="utf-8"))["groups"]
    (workspace["src"] / "sudan" / "sudan-906.txt").write_text(
        "---\nid: sudan-906\nconflict: sudan\ncountry: Sudan\ngenre: brief\n---\n"
        "Airstrike hits market in [Nyala]{LOC}\n\nAn airstrike on the main market of [Nyala]{LOC} killed [14 traders]{CAS:killed}, [witnesses]{ATT} said.\n",
        encoding="utf-8")
    assert build(workspace) == 0
    after = json.loads(workspace["splits"].read_text(encoding="utf-8"))["groups"]
    assert {g: after[g] for g in before} == before and "sudan-906" in after


BROKEN_SOURCES = [
    # (name, file to change, (old, new) or None to write the whole file, content, message fragment)
    ("unknown label code", "sudan/sudan-902.txt", ("[Omdurman]{LOC} before", "[Omdurman]{LCO} before"), "unknown label code 'LCO'"),
    ("unclosed span", "ukraine/ukraine-901.txt", ("[Governor Oleh Kiper]{ATT}", "[Governor Oleh Kiper"), "never closed"),
    ("span edge", "haiti/haiti-901.txt", ("[police]{ATT} said", "[police ]{ATT}said"), "whitespace at its edge"),
    ("casualty without status", "haiti/haiti-901.txt", ("[12 people]{CAS:killed}", "[12 people]{CAS}"), "needs a status"),
    ("BOM", "sudan/sudan-901.txt", ("---\nid: sudan-901", "\ufeff---\nid: sudan-901"), "byte-order mark"),
    ("empty source file", "sudan/sudan-903.txt", ("", None), "must start with a '---' header"),
    ("id that is not the file name", "ukraine/ukraine-902.txt", ("id: ukraine-902", "id: ukraine-992"), "does not match the file name"),
]


@pytest.mark.parametrize("name, relative, edit, fragment", BROKEN_SOURCES, ids=[c[0] for c in BROKEN_SOURCES])
def test_a_broken_source_leaves_every_output_untouched(workspace, capsys, name, relative, edit, fragment):
    assert build(workspace) == 0
    before = snapshot(workspace)
    path = workspace["src"] / relative
    if edit[1] is None:
        path.write_text("", encoding="utf-8")
    else:
        content = path.read_text(encoding="utf-8")
        assert edit[0] in content
        path.write_text(content.replace(edit[0], edit[1], 1), encoding="utf-8")
    capsys.readouterr()
    assert build(workspace) == 1
    err = capsys.readouterr().err
    assert fragment in err and str(path) in err and "nothing was written" in err
    assert snapshot(workspace) == before
    assert sorted(p.name for p in workspace["out"].iterdir()) == sorted(f"{s}.jsonl" for s in SPLITS), "no temporary file left behind"


def test_a_broken_source_on_a_first_build_creates_no_file(workspace, capsys):
    path = workspace["src"] / "sudan" / "sudan-904.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("{ACT}", "{ACTR}"), encoding="utf-8")
    assert build(workspace) == 1
    assert not workspace["out"].exists() and not workspace["splits"].exists()


def test_near_duplicate_sources_stop_the_build(workspace, capsys):
    original = workspace["src"] / "sudan" / "sudan-901.txt"
    copy = workspace["src"] / "sudan" / "sudan-907.txt"
    copy.write_text(original.read_text(encoding="utf-8").replace("sudan-901", "sudan-907").replace("on Sunday", "on Monday"), encoding="utf-8")
    assert build(workspace) == 1
    assert "near-duplicate" in capsys.readouterr().err and not workspace["out"].exists()


def test_a_broken_assignment_file_stops_the_build_and_is_kept(workspace, capsys):
    assert build(workspace) == 0
    workspace["splits"].write_text('{"groups": {"sudan-901": "train",', encoding="utf-8")
    before = snapshot(workspace)
    assert build(workspace) == 1
    assert "split assignment file is not valid JSON" in capsys.readouterr().err
    assert snapshot(workspace) == before


def test_a_missing_source_folder_is_an_error(workspace, capsys):
    workspace["src"] = workspace["src"].parent / "no-such-folder"
    assert build(workspace) == 1
    assert "no such file or folder" in capsys.readouterr().err
    assert not workspace["out"].exists()


# ---- stats -----------------------------------------------------------------------------

def test_stats_on_a_folder_of_split_files(workspace, capsys):
    assert build(workspace) == 0
    capsys.readouterr()
    assert main(["stats", str(workspace["out"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Per split\n") and "| all | 10 |" in out and "| sudan | 5 |" in out
    assert "CASUALTY status: killed 6, injured 4" in out


def test_stats_on_one_jsonl_file(workspace, capsys):
    assert build(workspace) == 0
    capsys.readouterr()
    assert main(["stats", str(workspace["out"] / "train.jsonl")]) == 0
    assert "| train |" in capsys.readouterr().out


def test_stats_on_a_broken_file_is_an_error(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "r-001", "text": "Drones hit Odesa"\n', encoding="utf-8")
    assert main(["stats", str(path)]) == 1
    assert "malformed JSON" in capsys.readouterr().err


# ---- markup --------------------------------------------------------------------------------

def test_markup_writes_sources_identical_to_the_originals(workspace, tmp_path, capsys):
    assert build(workspace) == 0
    out = tmp_path / "markup"
    for split in SPLITS:
        assert main(["markup", str(workspace["out"] / f"{split}.jsonl"), str(out), "--by-conflict"]) == 0
    written = sorted(p.relative_to(out) for p in out.rglob("*.txt"))
    assert written == sorted(p.relative_to(SOURCES) for p in SOURCES.rglob("*.txt"))
    for rel in written:
        assert (out / rel).read_text(encoding="utf-8") == (SOURCES / rel).read_text(encoding="utf-8")


def test_markup_writes_nothing_when_one_record_cannot_be_written(tmp_path, capsys):
    good = {"id": "r-001", "text": "Drones hit Odesa.", "spans": [{"start": 11, "end": 16, "label": "LOCATION"}]}
    overlapping = {"id": "r-002", "text": "Rapid Support Forces", "spans": [{"start": 0, "end": 13, "label": "ACTOR"}, {"start": 6, "end": 20, "label": "ACTOR"}]}
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(overlapping) + "\n", encoding="utf-8")
    out = tmp_path / "markup"
    assert main(["markup", str(path), str(out)]) == 1
    err = capsys.readouterr().err
    assert "record 'r-002'" in err and "overlapping spans cannot be written" in err
    assert not out.exists()


def test_markup_of_a_malformed_file_is_an_error(tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text("{not json}\n", encoding="utf-8")
    assert main(["markup", str(path), str(tmp_path / "markup")]) == 1
    assert "malformed JSON" in capsys.readouterr().err and not (tmp_path / "markup").exists()
