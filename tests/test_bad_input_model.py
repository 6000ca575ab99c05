"""Bad input to `conflict-spans predict` and training/train.py, and predicted spans that obey the corpus's own edge rules.

Driven as a user would (the ``run_cli`` fixture, ``training/train.py`` in a
subprocess): a clear error on stderr naming the file and, where there is one,
the line, record or value, and a fix; exit code 1 (an argparse usage error may
exit 2); never a traceback; and no output written or changed (bytes, mode and
mtime compared before and after).

The second half checks what predict writes: every predicted span passes the
checks ``validate`` applies to gold (spec G1, G10), and a paragraph's spans do
not depend on where in a long document it sits.
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
from hypothesis import given, settings
from hypothesis import strategies as st

from support import make_tiny_encoder, make_tiny_model

REPO_ROOT = Path(__file__).resolve().parents[1]

TRACEBACK = "Traceback"
LOADING_WEIGHTS = "Loading weights"  # transformers' progress line while it reads a model's weights


# ---- environment and shared fixtures ------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def _checkout_code_offline():
    """Subprocesses import this checkout's package (repository root first on PYTHONPATH) and never reach the hub."""
    saved = {key: os.environ.get(key) for key in ("PYTHONPATH", "HF_HUB_OFFLINE", "TOKENIZERS_PARALLELISM")}
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *[p for p in parts if Path(p).resolve() != REPO_ROOT]])
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A real train.py output directory (seconds on a CPU)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory) -> Path:
    """A random tiny BERT with the real fast tokenizer: a --model-name-or-path for train.py."""
    return make_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder") / "encoder")


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
    # split at "\n" only: JSON Lines may hold U+2028 and U+0085 raw (ensure_ascii=False), which splitlines() would cut at
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


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


def assert_names_lines(stderr: str, *numbers: int) -> None:
    """Each line number appears as FILE:N, 'line N' or in a 'lines ... N' list."""
    for n in numbers:
        pattern = rf"(?::{n}\b|\bline\s+{n}\b|\blines\b[^\n]*?\b{n}\b)"
        assert re.search(pattern, stderr, flags=re.IGNORECASE), f"line {n} is not named:\n{stderr[-3000:]}"


def run_train(*args) -> subprocess.CompletedProcess:
    """``python training/train.py ARGS`` from the repository root, offline."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "training/train.py", *map(str, args)], cwd=REPO_ROOT, capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=600)


def train_data(folder: Path, train_records=None) -> Path:
    write_jsonl(folder / "train.jsonl", train_records if train_records is not None else [CLEAN, ODESA, KHERSON])
    write_jsonl(folder / "validation.jsonl", [GOMA])
    return folder


def train_args(encoder: Path, data: Path, output: Path, *extra) -> list[str]:
    return ["--model-name-or-path", str(encoder), "--data-dir", str(data), "--output-dir", str(output), "--num-train-epochs", "1",
            "--max-length", "32", "--per-device-train-batch-size", "4", "--disable-tqdm", "true", "--save-strategy", "no",
            "--eval-strategy", "no", "--load-best-model-at-end", "false", *extra]


# ==== predict: its output and its input =========================================================

@pytest.mark.parametrize("spelling", ["same", "dot-slash", "absolute", "symlink"])
def test_01_predict_refuses_to_overwrite_its_input(run_cli, tiny_model, tmp_path, spelling):
    """Case 1: `predict --model M IN.jsonl -o IN.jsonl` (same path, also spelled ./IN.jsonl, absolute, or through a
    symlink) is refused before the model is loaded; IN unchanged."""
    src = write_jsonl(tmp_path / "in.jsonl", [CLEAN, ODESA])
    (tmp_path / "link.jsonl").symlink_to("in.jsonl")
    output = {"same": "in.jsonl", "dot-slash": "./in.jsonl", "absolute": str(src), "symlink": "link.jsonl"}[spelling]
    before = snapshot(tmp_path)
    result = run_cli("predict", "--model", tiny_model, "in.jsonl", "-o", output, cwd=tmp_path)
    assert_refused(result, Path(output).name)
    assert "output-path" in result.stderr
    assert LOADING_WEIGHTS not in result.stderr, "the model was loaded before the output was refused"
    assert snapshot(tmp_path) == before


def test_01b_predict_output_carries_meta(run_cli, tiny_model, tmp_path):
    """Case 1 (separately): predict output carries each record's `meta` through unchanged."""
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


@pytest.mark.parametrize("variant", ["missing", "empty", "corrupt-config", "no-weights", "a-file"])
def test_14_predict_bad_model_folder(run_cli, tiny_model, tmp_path, variant):
    """Case 4: `--model` a missing folder (the message must not say "Repo id must be in the form"), an empty folder,
    a corrupt folder (config.json with garbage, or no weights), a file -> clear error naming the folder, exit 1."""
    model = tmp_path / f"{variant}-model"
    if variant == "empty":
        model.mkdir()
    elif variant == "corrupt-config":
        shutil.copytree(tiny_model, model)
        (model / "config.json").write_text("garbage{{ not json", encoding="utf-8")
    elif variant == "no-weights":
        shutil.copytree(tiny_model, model)
        (model / "model.safetensors").unlink()
    elif variant == "a-file":
        model.write_text("not a model\n", encoding="utf-8")
    write_jsonl(tmp_path / "in.jsonl", [CLEAN])
    before = snapshot(tmp_path)
    result = run_cli("predict", "--model", model, "in.jsonl", "-o", "out.jsonl", cwd=tmp_path)
    assert_refused(result, model.name, "[model-folder]")
    assert "Repo id must be in the form" not in result.stderr
    # the value names what is missing or unreadable (the folder itself when it is missing or a file)
    expected = {"missing": model.name, "empty": "value: 'config.json'", "corrupt-config": "value: 'config.json'", "no-weights": "value: 'weights'",
                "a-file": model.name}[variant]
    assert expected in result.stderr
    assert snapshot(tmp_path) == before


def test_14b_every_caller_of_the_loader_gets_the_check(tmp_path):
    """Case 4: the check sits in load_predictor, so evaluate and the Label Studio backend get it too."""
    from conflict_spans.model.predict import load_predictor
    from conflict_spans.problems import CorpusError

    with pytest.raises(CorpusError) as caught:
        load_predictor(tmp_path / "nothing-here")
    assert [p.code for p in caught.value.problems] == ["model-folder"]
    assert caught.value.problems[0].path == str(tmp_path / "nothing-here")


@pytest.mark.parametrize("option, value, named", [pytest.param("--batch-size", "0", "batch", id="batch-size-0"),
                                                  pytest.param("--batch-size", "-3", "batch", id="batch-size-negative"),
                                                  pytest.param("--device", "banana", "banana", id="device-banana"),
                                                  pytest.param("--device", "cuda:99", "cuda:99", id="device-absent")])
def test_15_predict_bad_batch_size_or_device(run_cli, tiny_model, tmp_path, option, value, named):
    """Case 5: `--batch-size 0` -> error; `--device banana` -> error; a device this machine does not have -> error."""
    write_jsonl(tmp_path / "in.jsonl", [CLEAN])
    result = run_cli("predict", "--model", tiny_model, "in.jsonl", "-o", "out.jsonl", option, value, cwd=tmp_path)
    assert_refused(result, codes=(1, 2))
    assert named in result.stderr.lower(), result.stderr[-2000:]
    assert LOADING_WEIGHTS not in result.stderr, "the model was loaded before the option was refused"
    assert not (tmp_path / "out.jsonl").exists()


def test_16_predict_output_is_a_folder(run_cli, tiny_model, tmp_path):
    """Case 6: `-o` an existing folder -> error BEFORE inference (no model loaded; the tiny model is valid,
    so only the folder can be the error, and the error mentions the folder)."""
    write_jsonl(tmp_path / "in.jsonl", [CLEAN])
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run_cli("predict", "--model", tiny_model, "in.jsonl", "-o", "results", cwd=tmp_path)
    assert_refused(result, "results")
    assert LOADING_WEIGHTS not in result.stderr, "the model was loaded before the output folder was refused"
    assert snapshot(tmp_path) == before


def test_19_predict_output_under_a_file(run_cli, tiny_model, tmp_path):
    """Case 6: predict `-o` inside a path whose parent is a file -> error, nothing written."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file\n", encoding="utf-8")
    write_jsonl(tmp_path / "in.jsonl", [CLEAN])
    before = snapshot(tmp_path)
    result = run_cli("predict", "--model", tiny_model, "in.jsonl", "-o", "blocker/out.jsonl", cwd=tmp_path)
    assert_refused(result, "blocker")
    assert LOADING_WEIGHTS not in result.stderr
    assert snapshot(tmp_path) == before


# ==== train.py ===================================================================================

def test_09_train_unknown_label(tiny_encoder, tmp_path):
    """Case 2: `training/train.py --data-dir D` where D/train.jsonl has a "WEAPON" span -> clear error naming
    file/line/label, exit 1, no KeyError traceback, no output dir created."""
    weapon = record("weapon-001", "Drones hit Odesa at dawn, officials said.", [("Drones", "WEAPON"), ("Odesa", "LOCATION"), ("officials", "ATTRIBUTION")],
                    {"conflict": "ukraine", "genre": "brief"})
    data = train_data(tmp_path / "data", [CLEAN, weapon, KHERSON])  # WEAPON on line 2
    output = tmp_path / "run"
    result = run_train(*train_args(tiny_encoder, data, output))
    assert_refused(result, "train.jsonl", "WEAPON")
    assert "KeyError" not in result.stderr
    assert_names_lines(result.stderr, 2)
    assert not output.exists()


def test_09b_train_reports_both_splits_before_loading_a_model(tmp_path):
    """Case 2: every data file is read and checked before the model is loaded: errors in train.jsonl and
    validation.jsonl come out together, and a missing base model is not even looked at."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text(jsonl([CLEAN]) + "{not json\n", encoding="utf-8")
    (data / "validation.jsonl").write_text(jsonl([GOMA]) + '{"id": "v2", "text": 5, "spans": []}\n', encoding="utf-8")
    output = tmp_path / "run"
    result = run_train(*train_args(Path("no-such-org/never-looked-at"), data, output))
    assert_refused(result, "train.jsonl", "validation.jsonl")
    assert_names_lines(result.stderr, 2)
    assert "never-looked-at" not in result.stderr
    assert not output.exists()


@pytest.mark.parametrize("epochs", ["-1", "0"])
def test_12_train_non_positive_epochs(tiny_encoder, tmp_path, epochs):
    """Case 3: `train.py --num-train-epochs -1` (and 0) -> error before anything is saved (it used to save an
    untrained model and exit 0), exit 1, naming the argument and the value."""
    data = train_data(tmp_path / "data")
    output = tmp_path / "run"
    args = train_args(tiny_encoder, data, output)
    args[args.index("--num-train-epochs") + 1] = epochs
    result = run_train(*args)
    assert_refused(result, "num-train-epochs", epochs, "[train-argument]")
    assert not output.exists()


@pytest.mark.parametrize("flag, value, named", [
    ("--per-device-train-batch-size", "0", "per_device_train_batch_size"),
    ("--per-device-eval-batch-size", "0", "per_device_eval_batch_size"),
    ("--gradient-accumulation-steps", "0", "gradient_accumulation_steps"),
    ("--learning-rate", "0", "learning_rate"),
    ("--learning-rate", "-0.001", "learning_rate"),
    ("--max-length", "2", "max_length"),
    ("--stride", "-1", "stride"),
    ("--predict-stride", "-4", "predict_stride"),
    ("--max-train-docs", "0", "max_train_docs"),
    ("--max-eval-docs", "-2", "max_eval_docs"),
    ("--casing-dim", "0", "casing_dim"),
    ("--num-layers", "0", "num_layers"),
    ("--distill-alpha", "1.5", "distill_alpha"),
    ("--distill-temperature", "0", "distill_temperature"),
    ("--decoding", "beam", "decoding"),
])
def test_12_train_other_invalid_numbers(tiny_encoder, tmp_path, flag, value, named):
    """Case 3: other obviously invalid arguments -> the same error, naming the argument and the value, before anything
    is read or written (in-process: train() is what train.py, sweep.py and kfold.py call)."""
    from conflict_spans.model.train import parse_arguments, train
    from conflict_spans.problems import CorpusError

    data = train_data(tmp_path / "data")
    output = tmp_path / "run"
    with pytest.raises(CorpusError) as caught:
        train(*parse_arguments(train_args(tiny_encoder, data, output, flag, value)))
    [problem] = caught.value.problems
    assert problem.code == "train-argument"
    assert named in problem.message
    assert problem.value == value if flag == "--decoding" else float(problem.value) == float(value)
    assert not output.exists()


def test_12b_train_argument_checks_run_before_the_data_is_read(tmp_path):
    """Case 3: the arguments are checked first, so a wrong number is named even when the data folder is missing too."""
    from conflict_spans.model.train import parse_arguments, train
    from conflict_spans.problems import CorpusError

    args = parse_arguments(["--output-dir", str(tmp_path / "run"), "--data-dir", str(tmp_path / "nothing"), "--num-train-epochs", "0"])
    with pytest.raises(CorpusError) as caught:
        train(*args)
    assert [p.code for p in caught.value.problems] == ["train-argument"]
    assert not (tmp_path / "run").exists()


def test_18_train_unknown_hub_model_offline(tmp_path):
    """Case 7: train.py with `--model-name-or-path` an unknown hub id, offline (HF_HUB_OFFLINE=1) -> clear
    error, exit 1, no traceback."""
    data = train_data(tmp_path / "data")
    output = tmp_path / "run"
    model_id = "no-such-org/no-such-model-xyz"
    result = run_train(*train_args(Path(model_id), data, output))
    assert_refused(result, model_id, "[base-model]")
    assert not output.exists()


@pytest.mark.parametrize("variant", ["empty", "no-weights"])
def test_18b_train_bad_local_base_model(tiny_encoder, tmp_path, variant):
    """Case 7: a local --model-name-or-path folder that is empty or lacks weights -> clear error naming it."""
    model = tmp_path / f"{variant}-encoder"
    if variant == "empty":
        model.mkdir()
    else:
        shutil.copytree(tiny_encoder, model)
        (model / "model.safetensors").unlink()
    data = train_data(tmp_path / "data")
    output = tmp_path / "run"
    result = run_train(*train_args(model, data, output))
    assert_refused(result, model.name, "[model-folder]")
    assert not output.exists()


def test_19_train_output_dir_is_a_file(tiny_encoder, tmp_path):
    """Case 7: train.py `--output-dir` an existing file (or a path under one) -> error, nothing changed."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file\n", encoding="utf-8")
    data = train_data(tmp_path / "data")
    before = snapshot(tmp_path)
    for output in (blocker, blocker / "run"):
        result = run_train(*train_args(tiny_encoder, data, output))
        assert_refused(result, "blocker", "[output-path]")
        assert snapshot(tmp_path) == before


# ==== predicted spans obey the corpus's own span rules (spec G1, G2, G10) =========================

def conform(text: str, surface: str, label: str = "LOCATION", *, occurrence: int = 0, end_surface: str | None = None):
    """conform_span on the span covering ``surface`` (its ``occurrence``-th match), or from ``surface`` to ``end_surface``."""
    from conflict_spans.document import Span
    from conflict_spans.model.predict import conform_span

    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    end = start + len(surface) if end_surface is None else text.index(end_surface, start) + len(end_surface)
    span, done = conform_span(text, Span(start, end, label, None, 0.5))
    return (None if span is None else text[span.start:span.end]), done


@pytest.mark.parametrize("text, surface, expected, done", [
    # seen in the wild: a span ending in an emoji, in a comma, in a closing quote; one CJK character cut out of a word
    ("Drones hit Odesa🚨 at dawn.", "Odesa🚨", "Odesa", {"trimmed"}),
    ("Fighting near Goma, officials said.", "Goma,", "Goma", {"trimmed"}),
    ('He said "Kiper" was there.', '"Kiper"', "Kiper", {"trimmed"}),
    ("Officials in «Kharkiv» said", "«Kharkiv»", "Kharkiv", {"trimmed"}),
    ("官员说北京市有三人死亡", "京", "官员说北京市有三人死亡", {"widened"}),
    ("in 北京市 today", "京", "北京市", {"widened"}),
    # spec G10: cut at the first line break, keep what passes the edge checks
    ("Shelling kills six\n\nFighting resumed", "six\n\nFighting", "six", {"cut"}),
    ("Kills six\r\nFighting resumed", "six\r\nFighting", "six", {"cut"}),
    ("Kyiv\u2028Odesa", "Kyiv\u2028Odesa", "Kyiv", {"cut"}),
    ("Attack —\nFighting resumed", "—\nFighting", "Fighting", {"cut"}),
    ("A. six, \n\nB", "six, \n\nB", "six", {"cut", "trimmed"}),
    # the period of an abbreviation stays, a sentence's goes
    ("the U.S. said", "U.S.", "U.S.", set()),
    ("troops left Gaza.", "Gaza.", "Gaza", {"trimmed"}),
    ("Lt. Gen. Smith", "Lt.", "Lt.", set()),
    # combining marks stay with their letter; RTL and other scripts are words like any other
    ("Police in Zu\u0308rich said", "Zu", "Zu\u0308rich", {"widened"}),
    ("قتل 12 في الخرطوم، وقال", "الخرطوم،", "الخرطوم", {"trimmed"}),
    ("\u200bKyiv: 2 dead", "\u200bKyiv:", "Kyiv", {"trimmed"}),
    ("\u00a0Odesa\u00a0 burns", "\u00a0Odesa\u00a0", "Odesa", {"trimmed"}),
    # nothing valid left: dropped, and counted as such
    ("Goma — 👍🏽 — burns", "— 👍🏽 —", None, {"dropped"}),
    ("a\n\n—\nb", "\n\n—\n", None, {"cut", "dropped"}),
])
def test_conform_span_cases(text, surface, expected, done):
    """Case 8/9: a predicted span is trimmed, cut or widened until it passes validate's checks; dropped only when nothing is left."""
    from conflict_spans.document import Document, Span, check_spans

    found, did = conform(text, surface)
    assert found == expected
    assert did == done
    if found is not None:
        start = text.index(found)
        assert check_spans(Document("d", text, [Span(start, start + len(found), "LOCATION")])) == []


def test_conform_spans_merges_pieces_of_one_word_and_counts_everything():
    """Widening two pieces of one CJK word makes them overlap (spec G2): same label -> one span; the counts name every step."""
    from conflict_spans.document import Span
    from conflict_spans.model.predict import conform_spans

    text = "在北京市, 上海 and Odesa🚨.\n\nGaza."
    spans = [Span(1, 2, "LOCATION", None, 0.9), Span(2, 3, "LOCATION", None, 0.6),  # 北 | 京 -> 北京市
             Span(6, 7, "ACTOR", None, 0.4), Span(7, 8, "LOCATION", None, 0.8),  # 上 ACTOR | 海 LOCATION -> the stronger
             Span(13, 19, "LOCATION", None, 0.7),  # Odesa🚨
             Span(19, 21, "ACTOR", None, 0.5),  # ".\n": nothing left
             Span(22, 27, "LOCATION", None, 0.5)]  # Gaza.
    out, fixes = conform_spans(text, spans)
    assert [(text[s.start:s.end], s.label, s.score) for s in out] == [("在北京市", "LOCATION", 0.9), ("上海", "LOCATION", 0.8),
                                                                      ("Odesa", "LOCATION", 0.7), ("Gaza", "LOCATION", 0.5)]
    assert (fixes.spans, fixes.widened, fixes.merged, fixes.trimmed, fixes.cut, fixes.dropped) == (7, 4, 2, 2, 1, 1)
    assert fixes.adjusted == 7
    warning = fixes.problem()
    assert warning.code == "predicted-span" and warning.severity == "warning" and "1 dropped" in warning.message


def test_conform_spans_leaves_every_gold_span_of_the_bundled_corpus_alone():
    """Spans that already pass validate are never changed: conforming the bundled corpus's gold spans is the identity."""
    from conflict_spans.corpus.io import read_documents
    from conflict_spans.model.predict import conform_spans

    docs = [d for split in ("train", "validation", "test") for d in read_documents(REPO_ROOT / "corpus" / "data" / f"{split}.jsonl")]
    assert sum(len(d.spans) for d in docs) > 5000
    for doc in docs:
        out, fixes = conform_spans(doc.text, doc.spans)
        assert out == sorted(doc.spans), doc.id
        assert fixes.adjusted == 0, doc.id


_ALPHABET = list("ab Zq7.,;:'\"()-—«»“”…") + ["北", "京", "市", "ж", "ب", "\u0301", "\u200b", "\u00a0", "😀", "👍🏽", "\n", "\r\n", "\u2028", "\x85", "U.S.", "Lt.", "Gaza."]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_conformed_spans_always_pass_validate(data):
    """Case 8/9, as a property: whatever flat spans the decoder produces over whatever text, what comes out of
    conform_spans passes every extent check of validate (G1 edges and word boundaries, G2 no overlap, G10)."""
    from conflict_spans.document import Document, Span, check_spans
    from conflict_spans.model.predict import conform_spans

    text = "".join(data.draw(st.lists(st.sampled_from(_ALPHABET), min_size=1, max_size=40)))
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=12))))
    spans = [Span(a, b, data.draw(st.sampled_from(["ACTOR", "LOCATION"])), None, data.draw(st.floats(0.01, 1.0)))
             for a, b in zip(cuts[::2], cuts[1::2]) if a < b]
    out, fixes = conform_spans(text, spans)
    problems = [p for p in check_spans(Document("p", text, out)) if p.code in ("edge-space", "edge-punct", "word-boundary", "line-break", "overlap")]
    assert problems == [], (text, spans, out)
    assert fixes.spans == len(spans) and len(out) <= len(spans) and fixes.adjusted <= len(spans)
    assert len(out) == len(spans) - fixes.dropped - fixes.merged
    assert (fixes.adjusted == 0) == (out == sorted(spans))


TRICKY = {
    "emoji": "Goma🔥 burns; 👍🏽 M23 rebels took Bukavu 👨\u200d👩\u200d👧 today, killing 12, the army said 😢.",
    "quotes": 'Governor Oleh Kiper said: "Seven people, including a child, were wounded in Odesa." «Kharkiv» was hit too, “officials” said.',
    "cjk": "北京市 and 東京 officials said 3 people died in 上海市浦东新区 on Monday; 官员说北京市有三人死亡。",
    "rtl": "قتل 12 شخصا في الخرطوم، وقال الجيش. In Hebrew: צה״ל said שלושה נהרגו בעזה.",
    "combining": "Police in Zu\u0308rich said 3 people were hurt; cafe\u0301 owners in Sa\u0303o Tome\u0301 fled.",
    "headline": "Shelling kills six\n\nFighting in Kherson killed six people, the U.S. military said.\r\n\r\nLt. Gen. Smith said 2 were hurt.",
    "separators": "Kyiv\u2028Odesa\u2029Kharkiv\x85Lviv\vDnipro\fSumy: 2 dead.\tTabs and\u00a0NBSP, \u200bzero\u200dwidth (RSF) [sic] — end…",
    "long": " ".join(["Gunmen killed at least 12 civilians in Goma on Sunday, the army said."] * 12),
}


def _forced_model(folder: Path, encoder: Path, *, tag: str | None = None, seed: int = 0) -> Path:
    """A casing model saved like train.py saves: its head says ``tag`` for every token, or (no tag) random large logits."""
    import torch
    from transformers import AutoTokenizer

    from conflict_spans.model.network import build_token_classifier
    from conflict_spans.model.predict import PREDICT_CONFIG
    from conflict_spans.schema import LABEL2ID

    model = build_token_classifier(str(encoder), casing_features=True)
    with torch.no_grad():
        if tag is None:
            generator = torch.Generator().manual_seed(seed)
            model.classifier.weight.copy_(torch.randn(model.classifier.weight.shape, generator=generator) * 3.0)
            model.classifier.bias.copy_(torch.randn(model.classifier.bias.shape, generator=generator))
        else:
            model.classifier.weight.zero_()
            model.classifier.bias.zero_()
            model.classifier.bias[LABEL2ID[tag]] = 8.0
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(encoder)).save_pretrained(str(folder))
    (folder / PREDICT_CONFIG).write_text(json.dumps({"max_length": 16, "stride": 4, "decoding": "viterbi", "model_version": folder.name}))
    return folder


@pytest.fixture(scope="module")
def junk_models(tmp_path_factory, tiny_encoder) -> dict[str, Path]:
    """Models that predict lots of junk spans: every word its own span, one span over everything, random heads, a briefly trained model."""
    root = tmp_path_factory.mktemp("junk-models")
    return {
        "every-word-b": _forced_model(root / "every-word-b", tiny_encoder, tag="B-LOCATION"),
        "all-i": _forced_model(root / "all-i", tiny_encoder, tag="I-CASUALTY"),
        "random-0": _forced_model(root / "random-0", tiny_encoder, seed=0),
        "random-1": _forced_model(root / "random-1", tiny_encoder, seed=1),
        "trained-6-epochs": make_tiny_model(root / "trained-6", epochs=6, extra_args=["--eval-strategy", "no", "--max-length", "24"]),
    }


@pytest.mark.parametrize("model_name", ["every-word-b", "all-i", "random-0", "random-1", "trained-6-epochs"])
def test_predictions_on_tricky_unicode_pass_validate(junk_models, tmp_path, capsys, model_name):
    """Case 8/9: `conflict-spans validate` accepts what `predict` writes, also for emoji, quotes, CJK, RTL, combining
    marks, headlines, CRLF and Unicode line separators; adjustments are reported on stderr, not hidden."""
    from conflict_spans.cli import main as cli_main

    inputs = write_jsonl(tmp_path / "in.jsonl", [{"id": key, "text": text} for key, text in TRICKY.items()])
    output = tmp_path / "out.jsonl"
    assert cli_main(["predict", "--model", str(junk_models[model_name]), str(inputs), "-o", str(output)]) == 0
    predicted_err = capsys.readouterr().err
    records = read_output(output)
    assert [r["id"] for r in records] == list(TRICKY)
    n_spans = sum(len(r["spans"]) for r in records)
    assert n_spans >= (8 if model_name != "trained-6-epochs" else 1), "the model should predict spans to exercise the rules"
    assert cli_main(["validate", str(output)]) == 0, capsys.readouterr().err
    validated = capsys.readouterr()
    assert "0 errors" in validated.out + validated.err
    if model_name in ("every-word-b", "all-i"):
        assert "WARNING [predicted-span]" in predicted_err  # e.g. every-word-b drops the spans on "," "." "😢"
    if model_name == "every-word-b":
        by_id = {r["id"]: r for r in records}
        cjk = by_id["cjk"]
        assert "北京市" in {cjk["text"][s["start"]:s["end"]] for s in cjk["spans"]}  # one span for the whole word
        emoji = by_id["emoji"]
        assert "Goma" in {emoji["text"][s["start"]:s["end"]] for s in emoji["spans"]}  # "Goma🔥" less the emoji
    if model_name == "all-i":
        headline = next(r for r in records if r["id"] == "headline")
        assert [headline["text"][s["start"]:s["end"]] for s in headline["spans"]] == ["Shelling kills six"]  # cut at the line break


# ==== a paragraph's spans do not depend on where in a long document it sits =======================

class _ContextFreeModel:
    """Logits from the token id alone (one-hot from a seeded table): what a window holds around a token cannot matter."""

    def __new__(cls, vocab_size: int, seed: int = 0):
        import numpy as np
        import torch
        from torch import nn

        from conflict_spans.schema import TAGS

        class Table(nn.Module):
            def __init__(self):
                super().__init__()
                rng = np.random.default_rng(seed)
                tags = np.where(rng.random(vocab_size) < 0.5, 0, rng.integers(1, len(TAGS), vocab_size))
                table = np.zeros((vocab_size, len(TAGS)), dtype=np.float32)
                table[np.arange(vocab_size), tags] = 12.0
                self.table = nn.Embedding.from_pretrained(torch.from_numpy(table))
                self.window_lengths: list[int] = []

            def forward(self, input_ids, attention_mask=None, **kwargs):
                from types import SimpleNamespace

                self.window_lengths += [int(n) for n in attention_mask.sum(dim=1)]
                return SimpleNamespace(logits=self.table(input_ids))

        return Table()


PARAGRAPH = ("Shelling by the Rapid Support Forces (RSF) killed at least 12 civilians in El Fasher on Sunday, "
             "the state health ministry said; 北京市 and U.S. officials condemned it 🔥.")
FILLER = [f"Report {k}: Houthi drones struck a tanker off Hodeidah, officials said, and {k} people were hurt in Kharkiv." for k in range(40)]


def test_prediction_windows_are_full_length_to_the_end_of_a_long_document(minilm_tokenizer):
    """Case 10: the last window of a long document is moved back to be as long as the others (it used to hold as little
    as the stride), so the words at the end are read with a full window of context; training windows are unchanged."""
    from conflict_spans.document import Document
    from conflict_spans.model.predict import Predictor
    from conflict_spans.model.windows import window_bounds

    model = _ContextFreeModel(minilm_tokenizer.vocab_size)
    predictor = Predictor(model, minilm_tokenizer, max_length=32, stride=8, batch_size=4)
    for n_sentences in (5, 7, 11):
        model.window_lengths.clear()
        predictor.predict_documents([Document("long", "\n\n".join(FILLER[:n_sentences]), [])])
        assert len(model.window_lengths) > 3 and set(model.window_lengths) == {32}, model.window_lengths
    assert window_bounds(21, 8, 4, full_last=True) == [(0, 8), (4, 12), (8, 16), (12, 20), (13, 21)]
    assert window_bounds(21, 8, 4) == [(0, 8), (4, 12), (8, 16), (12, 20), (16, 21)]  # training: the plain grid


@pytest.mark.parametrize("max_length, stride", [(16, 4), (32, 8), (64, 32), (128, 64)])
def test_a_paragraph_gets_the_same_spans_wherever_it_sits(minilm_tokenizer, max_length, stride):
    """Case 10: with a deterministic model whose scores do not depend on context, a paragraph at the start, in the middle
    and at the end of a long document gets the same spans (windows, merging and span rules add no dependence on position).
    A real encoder reads context, so its spans can differ at the edges: see training/README.md, "Long documents"."""
    from conflict_spans.document import Document
    from conflict_spans.model.predict import Predictor

    predictor = Predictor(_ContextFreeModel(minilm_tokenizer.vocab_size, seed=max_length), minilm_tokenizer, max_length=max_length, stride=stride)
    filler = "\n\n".join(FILLER)
    half = filler.index("\n\n", len(filler) // 2)
    placements = {"start": (PARAGRAPH + "\n\n" + filler, 0),
                  "middle": (filler[:half] + "\n\n" + PARAGRAPH + "\n\n" + filler[half + 2:], half + 2),
                  "end": (filler + "\n\n" + PARAGRAPH, len(filler) + 2)}
    docs = predictor.predict_documents([Document(name, text, []) for name, (text, _) in placements.items()])
    found = {}
    for doc in docs:
        offset = placements[doc.id][1]
        found[doc.id] = [(s.start - offset, s.end - offset, s.label, s.status) for s in doc.spans if offset <= s.start and s.end <= offset + len(PARAGRAPH)]
    assert len(found["start"]) >= 5
    assert found["start"] == found["middle"] == found["end"]
