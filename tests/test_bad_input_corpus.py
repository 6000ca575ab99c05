"""Bad input to the corpus commands and the one checked loader (issue 10, section 3, brief H1).

Driven as a user would (the ``conflict-spans`` command in a subprocess, ``run_cli``): every bad
input gets a clear error on stderr that names the file and, where there is one, the line, the
record and the value, with a fix; exit 1; never a traceback; and nothing written or changed
(bytes, mode and mtime compared before and after). One test, or one parametrized test, per case
of the brief (``test_caseNN_...``); the draft test each one grew from is named in its docstring.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, TESTS_DIR

SOURCES = TESTS_DIR / "data" / "sources"
TRACEBACK = "Traceback"


# ---- records, files and checks ------------------------------------------------------------------

def record(rid: str, text: str, marks=(), meta: dict | None = None) -> dict:
    """A corpus record; marks are (surface, label[, status]) found left to right."""
    spans, cursor = [], 0
    for surface, label, *status in marks:
        start = text.index(surface, cursor)
        span = {"start": start, "end": start + len(surface), "label": label}
        if status:
            span["status"] = status[0]
        spans.append(span)
        cursor = span["end"]
    return {"id": rid, "text": text, "spans": spans, "meta": {"conflict": "nigeria", "genre": "brief"} if meta is None else meta}


CLEAN_TEXT = "Gunmen killed 12 villagers in Zamfara, police said."
CLEAN = record("clean-001", CLEAN_TEXT, [("Gunmen", "ACTOR"), ("12 villagers", "CASUALTY", "killed"), ("Zamfara", "LOCATION"), ("police", "ATTRIBUTION")])
ODESA = record("odesa-001", "A Russian drone wounded 7 people in Odesa, Governor Oleh Kiper said.",
               [("7 people", "CASUALTY", "injured"), ("Odesa", "LOCATION"), ("Governor Oleh Kiper", "ATTRIBUTION")],
               {"conflict": "ukraine", "genre": "brief"})
KHERSON = record("kherson-001", "Shelling by Russian forces killed two civilians in Kherson on Tuesday, officials said.",
                 [("Russian forces", "ACTOR"), ("two civilians", "CASUALTY", "killed"), ("Kherson", "LOCATION"), ("officials", "ATTRIBUTION")],
                 {"conflict": "ukraine", "genre": "brief"})
GOMA = record("goma-001", "M23 rebels seized Goma on Monday, the army said.", [("M23 rebels", "ACTOR"), ("Goma", "LOCATION"), ("army", "ATTRIBUTION")],
              {"conflict": "drc", "genre": "brief"})


def jsonl(records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_jsonl(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jsonl(records), encoding="utf-8")
    return path


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file (bytes, mode, mtime), folder and link under root."""
    out: dict[str, tuple] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        st = p.lstat()
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p))
        elif p.is_dir():
            out[rel] = ("dir", stat.S_IMODE(st.st_mode))
        else:
            out[rel] = ("file", p.read_bytes(), stat.S_IMODE(st.st_mode), st.st_mtime_ns)
    return out


def assert_refused(result: subprocess.CompletedProcess, *mentions: str, codes: tuple[int, ...] = (1,)) -> None:
    """A clear error: the expected exit code, no traceback, and stderr naming each of ``mentions`` (and a fix)."""
    err = result.stderr
    shown = f"\n--- stdout (tail) ---\n{result.stdout[-1500:]}\n--- stderr (tail) ---\n{err[-3000:]}"
    assert result.returncode in codes, f"exit code {result.returncode}, expected one of {codes}{shown}"
    assert TRACEBACK not in err, f"traceback on stderr{shown}"
    assert err.strip(), f"no message on stderr{shown}"
    for m in mentions:
        assert m in err, f"stderr does not name {m!r}{shown}"
    if result.returncode == 1:
        assert "fix" in err.lower(), f"the message gives no fix{shown}"


def assert_code(result: subprocess.CompletedProcess, code: str) -> None:
    assert f"[{code}]" in result.stderr, f"no problem [{code}] on stderr:\n{result.stderr[-3000:]}"


def assert_names_lines(stderr: str, *numbers: int) -> None:
    """Each line number appears as FILE:N, 'line N' or in a 'lines ... N' list."""
    for n in numbers:
        pattern = rf"(?::{n}\b|\bline\s+{n}\b|\blines\b[^\n]*?\b{n}\b)"
        assert re.search(pattern, stderr, flags=re.IGNORECASE), f"line {n} is not named:\n{stderr[-3000:]}"


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("conflict-spans")
    return [str(script)] if script.exists() else [sys.executable, "-m", "conflict_spans.cli"]


def run_piped(*args, data: bytes, cwd: Path) -> subprocess.CompletedProcess:
    """``conflict-spans ARGS`` with ``data`` on its standard input (a pipe)."""
    return subprocess.run([*cli_command(), *map(str, args)], cwd=cwd, input=data, capture_output=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


def decoded(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8"))


def run_with_umask(mask: int, *args) -> subprocess.CompletedProcess:
    """``conflict-spans ARGS`` in a child whose umask is ``mask`` (set in the child only)."""
    return subprocess.run([*cli_command(), *map(str, args)], cwd=REPO_ROOT, capture_output=True, text=True, encoding="utf-8",
                          timeout=120, preexec_fn=lambda: os.umask(mask))


def sources_copy(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(SOURCES, src)
    return src


def stats_all_row(stdout: str) -> list[str]:
    """The cells of the ``| all | docs | words | <labels> | spans |`` row of ``stats``."""
    row = next(line for line in stdout.splitlines() if line.startswith("| all |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A real train.py output directory (seconds on a CPU)."""
    from support import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", epochs=2)


def command_args(command: str, name: str, model: Path | None = None) -> list[str]:
    """The command line that reads ``name`` and writes into the working folder."""
    return {"stats": ["stats", name], "conll": ["conll", name, "out.conll"], "validate": ["validate", name],
            "markup": ["markup", name, "out"], "predict": ["predict", "--model", str(model), name, "-o", "out.jsonl"]}[command]


def model_for(command: str, request) -> Path | None:
    return request.getfixturevalue("tiny_model") if command == "predict" else None


# ==== Case 1: one checked loader; unknown labels and statuses are errors in every reader ==========

def test_case01_prediction_inputs_go_through_the_checked_loader(tmp_path):
    """Case 1: predict's reader lives in conflict_spans.corpus.io: id + text required, spans optional and checked
    when present, meta an object carried through; cli/model.py reads through it."""
    from conflict_spans.cli import model as cli_model
    from conflict_spans.corpus import io
    from conflict_spans.problems import CorpusError

    meta = {"conflict": "nigeria", "source": {"kind": "wire", "tags": [1, "two", None]}}
    good = write_jsonl(tmp_path / "in.jsonl", [{"id": "a-001", "text": CLEAN_TEXT, "meta": meta}, dict(ODESA)])
    docs = io.read_inputs([good])
    assert [(d.id, d.text, d.meta) for d in docs] == [("a-001", CLEAN_TEXT, meta), ("odesa-001", ODESA["text"], ODESA["meta"])]
    assert cli_model.read_inputs([good]) == docs

    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "a-001", "text": CLEAN_TEXT}, {"text": "No id here."}])
    with pytest.raises(CorpusError) as caught:
        io.read_inputs([bad])
    assert [(p.path, p.line) for p in caught.value.problems] == [(str(bad), 2)]


@pytest.mark.parametrize("command", ["stats", "conll", "markup", "predict"])
@pytest.mark.parametrize("what", ["label", "status"])
def test_case01_unknown_labels_and_statuses_stop_every_reader(run_cli, tmp_path, request, command, what):
    """Case 1: unknown labels / statuses are errors in every reader (stats, conll, markup, predict input with spans;
    train reads through the same read_documents), naming file, line, record and value; nothing written."""
    if what == "label":
        bad, value = record("bad-001", CLEAN_TEXT, [("Gunmen", "WEAPON"), ("Zamfara", "LOCATION")]), "WEAPON"
    else:
        bad, value = record("bad-001", CLEAN_TEXT, [("Gunmen", "ACTOR", "killed"), ("Zamfara", "LOCATION")]), "killed"
    write_jsonl(tmp_path / "in.jsonl", [ODESA, bad])  # line 2
    (tmp_path / "out").mkdir()
    before = snapshot(tmp_path)
    result = run_cli(*command_args(command, "in.jsonl", model_for(command, request)), cwd=tmp_path)
    assert_refused(result, "in.jsonl", "bad-001", value)
    assert_code(result, "unknown-label" if what == "label" else "status")
    assert_names_lines(result.stderr, 2)
    assert snapshot(tmp_path) == before


def test_01b_predict_output_carries_meta(run_cli, tiny_model, tmp_path):
    """Case 1 (draft test_01b): predict output carries each record's `meta` through unchanged (the loader keeps it
    in Document.meta; cmd_predict, brief H2, writes it)."""
    metas = {"clean-001": {"conflict": "nigeria", "genre": "brief", "source": {"kind": "wire", "tags": [1, "two", None]}},
             "odesa-001": {"conflict": "ukraine", "date": "2024-07-01"}}
    inputs = [{"id": rid, "text": text, "meta": metas[rid]} for rid, text in (("clean-001", CLEAN["text"]), ("odesa-001", ODESA["text"]))]
    write_jsonl(tmp_path / "in.jsonl", inputs)
    result = run_cli("predict", "--model", tiny_model, "in.jsonl", "-o", "out.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = {r["id"]: r for r in read_output(tmp_path / "out.jsonl")}
    assert set(out) == set(metas)
    for rid, meta in metas.items():
        assert out[rid].get("meta") == meta, f"{rid}: meta {out[rid].get('meta')!r}, expected {meta!r}"


# ==== Case 2: JSONL by other names, and standard input ============================================

def _check_read_as_jsonl(command: str, result: subprocess.CompletedProcess, tmp_path: Path) -> None:
    assert result.returncode == 0, result.stderr[-3000:]
    assert TRACEBACK not in result.stderr
    if command == "stats":
        cells = stats_all_row(result.stdout)
        assert cells[1] == "1" and cells[-1] == "4", f"expected 1 document and 4 spans, got {cells}"
    elif command == "conll":
        out = (tmp_path / "out.conll").read_text(encoding="utf-8")
        assert "# id = clean-001\n" in out and "Gunmen\tB-ACTOR\n" in out and "Zamfara\tB-LOCATION\n" in out, out[:500]
    elif command == "validate":
        assert "1 documents checked: 0 errors, 0 warnings" in result.stdout, result.stdout
    elif command == "markup":
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clean-001.txt"]
        assert "[12 villagers]{CAS:killed}" in (tmp_path / "out" / "clean-001.txt").read_text(encoding="utf-8")
    else:
        out = read_output(tmp_path / "out.jsonl")
        assert [(r["id"], r["text"]) for r in out] == [("clean-001", CLEAN_TEXT)], out


@pytest.mark.parametrize("command", ["stats", "conll", "validate", "markup", "predict"])
@pytest.mark.parametrize("name", ["UPPER.JSONL", "x.ndjson", pytest.param("-", id="stdin-dash"), pytest.param("/dev/stdin", id="dev-stdin")])
def test_case02_jsonl_by_other_names_and_stdin(tmp_path, request, command, name):
    """Case 2 (draft test_10): `UPPER.JSONL` and `x.ndjson` are JSONL (the suffix compared case-insensitively);
    `-` and `/dev/stdin` read JSONL from standard input, for every command that takes an input file."""
    data = jsonl([CLEAN]).encode("utf-8")
    args = command_args(command, name, model_for(command, request))
    if name in ("-", "/dev/stdin"):
        result = run_piped(*args, data=data, cwd=tmp_path)
    else:
        (tmp_path / name).write_bytes(data)
        result = run_piped(*args, data=b"", cwd=tmp_path)
    _check_read_as_jsonl(command, decoded(result), tmp_path)


# ==== Case 3: empty input ===========================================================================

@pytest.mark.parametrize("command", ["predict", "conll", "stats", "validate", "markup"])
@pytest.mark.parametrize("content", [pytest.param(b"", id="0-bytes"), pytest.param(b"\n  \n\n", id="blank-lines")])
def test_case03_empty_input_file(run_cli, tmp_path, request, command, content):
    """Case 3 (draft test_11): an empty input (0 bytes or only blank lines) is the error "no documents in FILE", exit 1,
    and an existing output file is not overwritten."""
    (tmp_path / "empty.jsonl").write_bytes(content)
    (tmp_path / "out.conll").write_text("an earlier result\n", encoding="utf-8")
    (tmp_path / "out.jsonl").write_text("an earlier result\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    before = snapshot(tmp_path)
    result = run_cli(*command_args(command, "empty.jsonl", model_for(command, request)), cwd=tmp_path)
    assert_refused(result, "empty.jsonl")
    assert "no documents in" in result.stderr.lower(), result.stderr[-2000:]
    assert snapshot(tmp_path) == before


# ==== Case 4: encodings and meta ====================================================================

@pytest.mark.parametrize("command", ["predict", "conll", "stats", "validate"])
@pytest.mark.parametrize("variant", ["non-utf8-first-line", "non-utf8-second-line", "meta-not-object"])
def test_case04_undecodable_input_and_bad_meta(run_cli, tmp_path, request, command, variant):
    """Case 4 (draft test_17): non-UTF-8 input -> error naming the file and the line of the first bad byte;
    "meta": "abc" -> error naming file, line, record id and value. Nothing written."""
    good = json.dumps(CLEAN).encode() + b"\n"
    bad_bytes = b"\xff\xfe" + json.dumps(dict(GOMA, id="bad-001")).encode() + b"\n"
    if variant == "non-utf8-first-line":
        content, line, mentions, code = bad_bytes + good, 1, ("in.jsonl",), "encoding"
    elif variant == "non-utf8-second-line":
        content, line, mentions, code = good + bad_bytes, 2, ("in.jsonl",), "encoding"
    else:
        content = good + json.dumps(dict(GOMA, id="meta-001", meta="abc")).encode() + b"\n"
        line, mentions, code = 2, ("in.jsonl", "meta-001", "abc"), "meta"
    (tmp_path / "in.jsonl").write_bytes(content)
    before = snapshot(tmp_path)
    result = run_cli(*command_args(command, "in.jsonl", model_for(command, request)), cwd=tmp_path)
    assert_refused(result, *mentions)
    assert_code(result, code)
    assert_names_lines(result.stderr, line)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["stats", "conll", "validate", "markup", "predict"])
def test_case04_utf8_bom_is_read(tmp_path, request, command):
    """Case 4 (draft test_20): a UTF-8 BOM at the start of a JSONL file is read correctly (utf-8-sig), neither
    reported as malformed JSON nor refused."""
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + jsonl([CLEAN]).encode("utf-8"))
    result = decoded(run_piped(*command_args(command, "bom.jsonl", model_for(command, request)), data=b"", cwd=tmp_path))
    assert "malformed json" not in result.stderr.lower(), result.stderr[-2000:]
    _check_read_as_jsonl(command, result, tmp_path)


# ==== Case 5: duplicate ids name the file and both lines ===========================================

@pytest.mark.parametrize("command", ["validate", "stats", "conll", "predict"])
def test_case05_duplicate_ids_name_file_and_both_lines(run_cli, tmp_path, request, command):
    """Case 5 (draft test_21): duplicate ids -> the message names the file and BOTH line numbers (validate, and every
    reader); nothing written."""
    write_jsonl(tmp_path / "dups.jsonl", [CLEAN, dict(ODESA, id="dup-001"), GOMA, dict(KHERSON, id="dup-001")])  # lines 2 and 4
    before = snapshot(tmp_path)
    result = run_cli(*command_args(command, "dups.jsonl", model_for(command, request)), cwd=tmp_path)
    assert_refused(result, "dups.jsonl", "dup-001")
    assert_code(result, "duplicate-id")
    assert re.search(r"dups\.jsonl:2\b", result.stderr) and re.search(r"dups\.jsonl:4\b", result.stderr), result.stderr
    assert snapshot(tmp_path) == before


# ==== Case 6: markup refuses what it could not write back ==========================================

def test_case06_markup_duplicate_ids(run_cli, tmp_path):
    """Case 6 (draft test_02): `markup` with two records sharing an id: error naming both lines, nothing written
    (it wrote one file and said "wrote 1 files")."""
    write_jsonl(tmp_path / "dups.jsonl", [CLEAN, dict(KHERSON, id="dup-001"), GOMA, dict(ODESA, id="dup-001")])  # lines 2 and 4
    (tmp_path / "out").mkdir()
    before = snapshot(tmp_path)
    result = run_cli("markup", "dups.jsonl", "out", cwd=tmp_path)
    assert_refused(result, "dups.jsonl", "dup-001")
    assert_names_lines(result.stderr, 2, 4)
    assert snapshot(tmp_path) == before


def test_case06_markup_unknown_label(run_cli, tmp_path):
    """Case 6 (draft test_07): `markup` of a record with label "WEAPON" -> error, nothing written (it wrote
    `{WEAPON}`, which its own parser rejects)."""
    bad = record("bad-label-001", CLEAN_TEXT, [("Gunmen", "WEAPON"), ("Zamfara", "LOCATION")])
    write_jsonl(tmp_path / "in.jsonl", [ODESA, bad])
    (tmp_path / "out").mkdir()
    before = snapshot(tmp_path)
    result = run_cli("markup", "in.jsonl", "out", cwd=tmp_path)
    assert_refused(result, "in.jsonl", "bad-label-001", "WEAPON")
    assert_names_lines(result.stderr, 2)
    assert snapshot(tmp_path) == before


# ==== Case 7: ids and conflict codes become file names only after a strict check ===================

@pytest.mark.parametrize("variant, bad", [
    ("id", "../escaped"), ("id", "a/b"), ("id", ".."), ("id", ".hidden"), ("id", "x\\y"), ("id", "a..b"),
    ("by-conflict", "../../.."), ("by-conflict", "/tmp"), ("by-conflict", ""),
])
def test_case07_markup_path_escape(run_cli, tmp_path, variant, bad):
    """Case 7 (draft test_04): `markup` of a record with id "../escaped" -> error, nothing written outside (or inside)
    the output folder; `--by-conflict` with meta.conflict "../../.." -> error, nothing written anywhere."""
    out = tmp_path / "a" / "b" / "c" / "out"
    out.mkdir(parents=True)
    if variant == "id":
        write_jsonl(tmp_path / "in.jsonl", [GOMA, dict(CLEAN, id=bad)])
        args = ["markup", "in.jsonl", out]
    else:
        write_jsonl(tmp_path / "in.jsonl", [GOMA, dict(CLEAN, meta={"conflict": bad, "genre": "brief"})])
        args = ["markup", "--by-conflict", "in.jsonl", out]
    before = snapshot(tmp_path)
    result = run_cli(*args, cwd=tmp_path)
    assert_refused(result, "in.jsonl", repr(bad))
    assert_code(result, "file-name")
    assert_names_lines(result.stderr, 2)
    assert snapshot(tmp_path) == before


def test_case07_the_bundled_ids_and_conflict_codes_pass_the_check():
    from conflict_spans.corpus.build import load_sources
    from conflict_spans.corpus.conflicts import load_conflicts
    from conflict_spans.corpus.io import safe_file_name

    for doc in load_sources():
        assert safe_file_name(doc.id, "id") == doc.id
    for code in load_conflicts():
        assert safe_file_name(code, "conflict") == code


# ==== Case 8: build checks everything before it writes ============================================

@pytest.mark.parametrize("where", ["out-is-a-file", "out-under-a-file", "splits-is-a-folder"])
def test_case08_build_output_where_a_file_or_folder_is(run_cli, tmp_path, where):
    """Case 8 (draft test_03): `build --out` an existing regular file: error before anything changes; splits.json
    and every output byte-identical (it used to fail with a traceback after rewriting splits.json)."""
    src = sources_copy(tmp_path)
    splits = tmp_path / "splits.json"
    first = run_cli("build", "--src", src, "--out", tmp_path / "data", "--splits", splits)
    assert first.returncode == 0, first.stderr  # a real splits.json to keep
    splits.write_text(splits.read_text(encoding="utf-8").replace("\n", "\n "), encoding="utf-8")  # same JSON, other bytes
    (tmp_path / "outfile").write_text("not a folder\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    out, splits_arg, named = {"out-is-a-file": (tmp_path / "outfile", splits, "outfile"),
                              "out-under-a-file": (tmp_path / "outfile" / "data", splits, "outfile"),
                              "splits-is-a-folder": (tmp_path / "data", tmp_path / "folder", "folder")}[where]
    before = snapshot(tmp_path)
    result = run_cli("build", "--src", src, "--out", out, "--splits", splits_arg)
    assert_refused(result, named)
    assert_code(result, "output-path")
    assert snapshot(tmp_path) == before


def test_case08_build_writes_all_or_nothing(tmp_path, monkeypatch):
    """Case 8: a write that fails part-way (the third of four files) leaves every earlier output as it was."""
    from conflict_spans.corpus import io
    from conflict_spans.corpus.build import build

    src = sources_copy(tmp_path)
    splits, data = tmp_path / "splits.json", tmp_path / "data"
    build(src, data, splits)
    splits.write_text(splits.read_text(encoding="utf-8").replace("\n", "\n "), encoding="utf-8")
    for name in ("train", "validation", "test"):
        (data / f"{name}.jsonl").write_text("stale\n", encoding="utf-8")
    before = snapshot(tmp_path)
    real_fdopen, calls = os.fdopen, []

    def failing_fdopen(fd, *args, **kwargs):
        calls.append(fd)
        if len(calls) == 3:
            os.close(fd)
            raise OSError(28, "No space left on device")
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(io.os, "fdopen", failing_fdopen)
    with pytest.raises(OSError):
        build(src, data, splits)
    assert len(calls) == 3
    assert snapshot(tmp_path) == before


# ==== Case 9: file modes ==========================================================================

@pytest.mark.parametrize("command, mask, expected", [
    pytest.param("rebuild", 0o077, 0o644, id="rebuild-keeps-0644-under-umask077"),
    pytest.param("build", 0o022, 0o644, id="build-umask022"),
    pytest.param("build", 0o077, 0o600, id="build-umask077"),
    pytest.param("conll", 0o022, 0o644, id="conll-umask022"),
    pytest.param("conll", 0o027, 0o640, id="conll-umask027"),
    pytest.param("markup", 0o022, 0o644, id="markup-umask022"),
])
def test_case09_output_file_modes(tmp_path, command, mask, expected):
    """Case 9 (draft test_05): an unchanged rebuild keeps the existing files' 0644 mode (even under umask 077); a new
    file honours the umask (022 -> 0644, 077 -> 0600). Atomic writes used to leave 0600 (mkstemp) whatever the umask."""
    if command in ("build", "rebuild"):
        src = sources_copy(tmp_path)
        args = ["build", "--src", src, "--out", tmp_path / "data", "--splits", tmp_path / "splits.json"]
        outputs = [tmp_path / "splits.json"] + [tmp_path / "data" / f"{s}.jsonl" for s in ("train", "validation", "test")]
        if command == "rebuild":
            assert run_with_umask(0o022, *args).returncode == 0
            for path in outputs:
                path.chmod(0o644)
            bytes_before = [p.read_bytes() for p in outputs]
    elif command == "conll":
        write_jsonl(tmp_path / "in.jsonl", [CLEAN])
        args, outputs = ["conll", tmp_path / "in.jsonl", tmp_path / "out.conll"], [tmp_path / "out.conll"]
    else:
        write_jsonl(tmp_path / "in.jsonl", [CLEAN])
        args, outputs = ["markup", tmp_path / "in.jsonl", tmp_path / "out"], [tmp_path / "out" / "clean-001.txt"]
    result = run_with_umask(mask, *args)
    assert result.returncode == 0, result.stderr
    if command == "rebuild":
        assert [p.read_bytes() for p in outputs] == bytes_before, "an unchanged rebuild changed the contents"
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in outputs}
    assert modes == {p.name: oct(expected) for p in outputs}


def test_case09_a_replaced_file_keeps_its_mode(tmp_path):
    from conflict_spans.corpus.io import atomic_write_text

    path = tmp_path / "out.txt"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o640)
    atomic_write_text(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o640


# ==== Case 10: conll refuses labels the schema does not know ======================================

@pytest.mark.parametrize("label", ["WEAPON", "actor"])
def test_case10_conll_unknown_label(run_cli, tmp_path, label):
    """Case 10 (draft test_06): `conll` of a record with label "WEAPON" -> error; with "actor" (wrong case) -> error.
    No output file."""
    bad = record("bad-label-001", CLEAN_TEXT, [("Gunmen", label), ("Zamfara", "LOCATION")])
    write_jsonl(tmp_path / "in.jsonl", [ODESA, bad])  # the bad record on line 2
    result = run_cli("conll", "in.jsonl", "out.conll", cwd=tmp_path)
    assert_refused(result, "in.jsonl", "bad-label-001", label)
    assert_code(result, "unknown-label")
    assert_names_lines(result.stderr, 2)
    assert not (tmp_path / "out.conll").exists()


# ==== Case 11: stats counts every span or stops ===================================================

@pytest.mark.parametrize("what", ["label", "status", "status-on-actor"])
def test_case11_stats_unknown_label_or_status(run_cli, tmp_path, what):
    """Case 11 (draft test_08): `stats` of a file with an unknown label or an unknown status ("dead") -> error naming the
    record (not silently left out of the counts)."""
    if what == "label":
        bad, value = record("bad-001", CLEAN_TEXT, [("Gunmen", "WEAPON"), ("Zamfara", "LOCATION")]), "WEAPON"
    elif what == "status":
        bad, value = record("bad-001", CLEAN_TEXT, [("12 villagers", "CASUALTY", "dead")]), "dead"
    else:
        bad, value = record("bad-001", CLEAN_TEXT, [("Gunmen", "ACTOR", "killed")]), "killed"
    write_jsonl(tmp_path / "in.jsonl", [ODESA, bad])
    result = run_cli("stats", "in.jsonl", cwd=tmp_path)
    assert_refused(result, "in.jsonl", "bad-001", value)
    assert_names_lines(result.stderr, 2)
    assert "| all |" not in result.stdout


def test_case11_stats_of_a_corpus_folder_is_checked_too(run_cli, tmp_path):
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [CLEAN, ODESA])
    write_jsonl(data / "validation.jsonl", [KHERSON, record("bad-001", CLEAN_TEXT.replace("Gunmen", "Bandits"), [("12 villagers", "CASUALTY", "dead")])])
    write_jsonl(data / "test.jsonl", [GOMA])
    result = run_cli("stats", data, cwd=tmp_path)
    assert_refused(result, "validation.jsonl", "bad-001", "dead")
    assert_names_lines(result.stderr, 2)


# ==== Case 12: spec G10, a span never contains a line break =======================================

NEWLINE_TEXT = "Shelling hits Kupiansk\ndistrict overnight, officials said."
NEWLINE_RECORD = record("newline-001", NEWLINE_TEXT, [("Kupiansk\ndistrict", "LOCATION"), ("officials", "ATTRIBUTION")],
                        {"conflict": "ukraine", "genre": "brief"})
NEWLINE_SOURCE = """---
id: ukraine-950
conflict: ukraine
country: Ukraine
region: Kharkiv
genre: wire
date: 2024-08-02
---
Shelling hits [Kupiansk
district]{LOC} overnight

Russian artillery shelled villages near [Kupiansk]{LOC} overnight, local officials said.
"""


@pytest.mark.parametrize("command", ["validate", "markup", "build"])
def test_case12_span_with_line_break(run_cli, tmp_path, command):
    """Case 12 (draft test_22): `validate` rejects a span containing a line break (spec G10) with file, line, record,
    value and fix; `markup` / `build` of such a record refuse it and write nothing."""
    if command == "build":
        src = sources_copy(tmp_path)
        (src / "ukraine" / "ukraine-950.txt").write_text(NEWLINE_SOURCE, encoding="utf-8")
        args, mentions = ["build", "--src", src, "--out", tmp_path / "data", "--splits", tmp_path / "splits.json"], ("ukraine-950",)
    else:
        write_jsonl(tmp_path / "in.jsonl", [CLEAN, NEWLINE_RECORD])  # line 2
        mentions = ("in.jsonl", "newline-001")
        args = ["validate", "in.jsonl"] if command == "validate" else ["markup", "in.jsonl", tmp_path / "out"]
        if command == "markup":
            (tmp_path / "out").mkdir()
    before = snapshot(tmp_path)
    result = run_cli(*args, cwd=tmp_path)
    assert_refused(result, *mentions)
    assert_code(result, "line-break")
    assert "G10" in result.stderr
    if command != "build":
        assert_names_lines(result.stderr, 2)
    assert snapshot(tmp_path) == before


def test_case12_push_refuses_a_span_with_a_line_break():
    """Case 12: `ls push` checks the spans it sends with the same rules (no server needed to refuse)."""
    from conflict_spans.annotation.labelstudio.client import check_push_documents
    from conflict_spans.document import document_from_dict
    from conflict_spans.problems import CorpusError

    doc, problems = document_from_dict(NEWLINE_RECORD)
    assert doc is not None and not problems
    with pytest.raises(CorpusError) as caught:
        check_push_documents([doc], with_spans=True)
    assert [p.code for p in caught.value.problems] == ["line-break"]
