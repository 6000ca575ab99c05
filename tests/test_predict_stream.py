"""`conflict-spans predict` streamed (issue 12): records read one at a time, windows batched by length, output written as
it goes to OUT.partial and renamed at the end, `--resume` after a kill, Parquet in and out, progress on stderr.

Streamed output is compared with the non-streamed ``Predictor.predict_documents`` (windows padded in input order):
the spans must be the same, the scores equal up to float noise from the different padding.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from conflict_spans.cli import main as cli_main
from conflict_spans.corpus.io import read_documents
from conflict_spans.document import Document

from support import make_tiny_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    # max_length 24: most documents take several windows, of different lengths at their ends
    return make_tiny_model(tmp_path_factory.mktemp("stream-model") / "model", epochs=6, extra_args=["--eval-strategy", "no", "--max-length", "24"])


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    """36 documents from a few words to a few hundred, cut from the validation split, with meta."""
    source = read_documents(ROOT / "corpus" / "data" / "validation.jsonl")
    out = []
    for k in range(36):
        doc = source[k % len(source)]
        cut = [40, 150, 600, 2000][k % 4]
        out.append(Document(f"doc-{k:02d}", doc.text[:cut], [], {"k": k, "conflict": doc.meta.get("conflict")}))
    return out


def write_records(path: Path, docs: list[Document]) -> Path:
    path.write_text("".join(json.dumps({"id": d.id, "text": d.text, "meta": d.meta}, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def predict(model: Path, inputs, output: Path, *extra: str) -> int:
    return cli_main(["predict", "--model", str(model), *map(str, inputs), "-o", str(output), *extra])


def assert_same_records(found: list[dict], expected: list[dict]) -> None:
    """Same ids in the same order, same text, meta and model version, same spans; scores equal up to float noise."""
    assert [r["id"] for r in found] == [r["id"] for r in expected]
    for a, b in zip(found, expected):
        assert (a["text"], a["meta"], a["model_version"]) == (b["text"], b["meta"], b["model_version"])
        assert [{k: v for k, v in s.items() if k != "score"} for s in a["spans"]] == [{k: v for k, v in s.items() if k != "score"} for s in b["spans"]], a["id"]
        assert [s["score"] for s in a["spans"]] == pytest.approx([s["score"] for s in b["spans"]], abs=1e-4)


@pytest.fixture(scope="module")
def reference(model, docs) -> list[dict]:
    """The predictions of the old, non-streamed path: every document encoded, windows padded in input order."""
    from conflict_spans.model.predict import load_predictor
    from conflict_spans.model.stream import prediction_record

    predictor = load_predictor(model)
    return [prediction_record(doc, predictor.model_version) for doc in predictor.predict_documents(docs)]


# ---- streamed = not streamed -------------------------------------------------------------------------

@pytest.mark.parametrize("buffer", ["1", "5", "256"])
def test_streamed_output_equals_the_non_streamed_predictions(model, docs, reference, tmp_path, buffer):
    inputs = write_records(tmp_path / "in.jsonl", docs)
    assert predict(model, [inputs], tmp_path / "out.jsonl", "--buffer", buffer, "--batch-size", "4", "--quiet") == 0
    found = read_output(tmp_path / "out.jsonl")
    assert_same_records(found, reference)
    assert sum(len(r["spans"]) for r in found) > 0, "the model should predict spans for the comparison to mean something"
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_windows_are_batched_by_length_and_documents_come_back_in_input_order(model, docs):
    """Length bucketing: the forward passes see windows longest first, so each batch holds windows of about one length."""
    from conflict_spans.model.predict import load_predictor

    predictor = load_predictor(model, batch_size=4)
    widths: list[list[int]] = []
    forward = predictor.model.forward

    def recording(*args, **kwargs):
        widths.append([int(n) for n in kwargs["attention_mask"].sum(dim=1)])
        return forward(*args, **kwargs)

    predictor.model.forward = recording
    sample = docs[:12]
    out = predictor.predict_documents_by_length(sample)
    assert [d.id for d in out] == [d.id for d in sample]
    flat = [w for batch in widths for w in batch]
    assert flat == sorted(flat, reverse=True) and len(set(flat)) > 2, flat
    widths.clear()
    predictor.predict_documents(sample)
    assert [w for batch in widths for w in batch] != flat  # input order: the old path pads short windows with long ones


def test_threads_option_sets_torch_threads(model, docs, tmp_path):
    import torch

    before = torch.get_num_threads()
    try:
        assert predict(model, [write_records(tmp_path / "in.jsonl", docs[:3])], tmp_path / "out.jsonl", "--threads", "1", "--quiet") == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_plain_text_folders_still_work(model, docs, tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    for doc in docs[:3]:
        (folder / f"{doc.id}.txt").write_text(doc.text, encoding="utf-8")
    assert predict(model, [folder], tmp_path / "out.jsonl", "--quiet") == 0
    assert [(r["id"], r["text"]) for r in read_output(tmp_path / "out.jsonl")] == [(d.id, d.text) for d in docs[:3]]


# ---- resuming ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cut", ["mid-line", "no-newline", "clean"])
def test_resume_after_a_kill_gives_the_uninterrupted_output(model, docs, reference, tmp_path, capsys, cut):
    """A run killed mid-write leaves OUT.partial with a last line cut short; --resume cuts it off, skips the ids written
    and appends the rest: the final output equals an uninterrupted run, and no line is corrupt."""
    inputs = write_records(tmp_path / "in.jsonl", docs)
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in reference]
    kept = 13
    tail = {"mid-line": lines[kept][: len(lines[kept]) // 2], "no-newline": lines[kept].rstrip("\n"), "clean": ""}[cut]
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text("".join(lines[:kept]) + tail, encoding="utf-8")
    capsys.readouterr()
    assert predict(model, [inputs], tmp_path / "out.jsonl", "--resume", "--buffer", "4") == 0
    captured = capsys.readouterr()
    assert f"{len(docs) - kept} documents" in captured.out and f"(+ {kept} from the run resumed)" in captured.out
    assert f"{kept} already there (resumed), {kept} input records skipped" in captured.err
    assert_same_records(read_output(tmp_path / "out.jsonl"), reference)
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").endswith("}\n")
    assert not partial.exists()


def test_resume_skips_exactly_the_ids_written(model, docs, tmp_path, monkeypatch, capsys):
    """Only the documents not yet in the output reach the model."""
    from conflict_spans.model.predict import Predictor

    inputs = write_records(tmp_path / "in.jsonl", docs[:10])
    assert predict(model, [write_records(tmp_path / "first.jsonl", docs[:4])], tmp_path / "first-out.jsonl", "--quiet") == 0
    (tmp_path / "out.jsonl.partial").write_bytes((tmp_path / "first-out.jsonl").read_bytes())
    seen: list[str] = []
    original = Predictor.predict_documents_by_length

    def counting(self, batch):
        seen.extend(d.id for d in batch)
        return original(self, batch)

    monkeypatch.setattr(Predictor, "predict_documents_by_length", counting)
    assert predict(model, [inputs], tmp_path / "out.jsonl", "--resume", "--quiet") == 0
    assert seen == [d.id for d in docs[4:10]]
    assert [r["id"] for r in read_output(tmp_path / "out.jsonl")] == [d.id for d in docs[:10]]


def test_resume_continues_a_finished_output_with_new_documents(model, docs, reference, tmp_path):
    """--resume with OUT and no OUT.partial: OUT's documents are kept and the input's new ones appended (a grown archive)."""
    assert predict(model, [write_records(tmp_path / "old.jsonl", docs[:20])], tmp_path / "out.jsonl", "--quiet") == 0
    assert predict(model, [write_records(tmp_path / "all.jsonl", docs)], tmp_path / "out.jsonl", "--resume", "--quiet") == 0
    assert_same_records(read_output(tmp_path / "out.jsonl"), reference)


def test_an_earlier_partial_output_is_never_overwritten_without_resume(model, docs, tmp_path, capsys):
    inputs = write_records(tmp_path / "in.jsonl", docs[:3])
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text('{"id": "doc-00"}\n', encoding="utf-8")
    assert predict(model, [inputs], tmp_path / "out.jsonl") == 1
    err = capsys.readouterr().err
    assert "[partial-output]" in err and "--resume" in err and "Loading weights" not in err
    assert partial.read_text(encoding="utf-8") == '{"id": "doc-00"}\n'
    assert not (tmp_path / "out.jsonl").exists()


def test_a_damaged_line_inside_the_partial_output_is_refused(model, docs, reference, tmp_path, capsys):
    """Only the last line can be cut short by a kill; a damaged line with records after it is named, not repaired."""
    inputs = write_records(tmp_path / "in.jsonl", docs)
    lines = [json.dumps(r) + "\n" for r in reference[:5]]
    lines[2] = "not json\n"
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text("".join(lines), encoding="utf-8")
    assert predict(model, [inputs], tmp_path / "out.jsonl", "--resume") == 1
    err = capsys.readouterr().err
    assert "[partial-output]" in err and f"{partial}:3" in err
    assert partial.read_text(encoding="utf-8") == "".join(lines)


# ---- Parquet ---------------------------------------------------------------------------------------------

def write_parquet(path: Path, docs: list[Document], meta: str) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"id": [d.id for d in docs], "text": [d.text for d in docs]}
    if meta == "json":
        columns["meta"] = [json.dumps(d.meta) for d in docs]
    elif meta == "struct":
        columns["meta"] = [d.meta for d in docs]
    pq.write_table(pa.table(columns), path, row_group_size=7)
    return path


@pytest.mark.parametrize("meta", ["json", "struct", "none"])
def test_parquet_in_and_out_round_trip(model, docs, reference, tmp_path, meta):
    from conflict_spans.model.stream import read_parquet_predictions

    inputs = write_parquet(tmp_path / "in.parquet", docs, meta)
    assert predict(model, [inputs], tmp_path / "out.parquet", "--buffer", "6", "--quiet") == 0
    found = list(read_parquet_predictions(tmp_path / "out.parquet"))
    expected = reference if meta != "none" else [dict(r, meta={}) for r in reference]
    assert_same_records(found, expected)
    # a Parquet output is an input in turn (meta a JSON string), and the JSONL output of it is the same
    assert predict(model, [tmp_path / "out.parquet"], tmp_path / "again.jsonl", "--quiet") == 0
    assert_same_records(read_output(tmp_path / "again.jsonl"), expected)


def test_parquet_output_resumes_from_its_journal(model, docs, reference, tmp_path):
    inputs = write_records(tmp_path / "in.jsonl", docs)
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in reference]
    (tmp_path / "out.parquet.partial").write_text("".join(lines[:9]) + lines[9][:30], encoding="utf-8")
    assert predict(model, [inputs], tmp_path / "out.parquet", "--resume", "--quiet") == 0
    from conflict_spans.model.stream import read_parquet_predictions

    assert_same_records(list(read_parquet_predictions(tmp_path / "out.parquet")), reference)
    assert not (tmp_path / "out.parquet.partial").exists()


# ---- bad input while streaming: the run stops at the record, the prefix is written, --resume continues --------

def _bad_json(records: list[dict]) -> list[str]:
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines[4] = lines[4][:25]  # line 5
    return lines


def _missing_text(records: list[dict]) -> list[str]:
    records[4] = {"id": records[4]["id"], "meta": {}}
    return [json.dumps(r, ensure_ascii=False) for r in records]


def _duplicate_id(records: list[dict]) -> list[str]:
    records[4] = dict(records[4], id=records[1]["id"])  # line 5 repeats line 2's id
    return [json.dumps(r, ensure_ascii=False) for r in records]


SPOILS = pytest.mark.parametrize("spoil, code, names", [
    (_bad_json, "json", ["in.jsonl:5"]),
    (_missing_text, "record", ["in.jsonl:5", "'doc-04'"]),
    (_duplicate_id, "duplicate-id", ["in.jsonl:2", "in.jsonl:5", "'doc-01'"]),
])


@SPOILS
def test_a_bad_record_in_a_file_stops_the_run_before_the_model_loads(model, docs, tmp_path, capsys, monkeypatch, spoil, code, names):
    """Every record of a file is checked before the model loads: a bad one on the last line costs seconds, not the run."""
    import conflict_spans.model.predict as predict_module

    records = [{"id": d.id, "text": d.text, "meta": d.meta} for d in docs[:9]]
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("\n".join(spoil([dict(r) for r in records])) + "\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(predict_module, "load_predictor", lambda *a, **k: pytest.fail("the model was loaded"))
    assert predict(model, [inputs], tmp_path / "out.jsonl", "--buffer", "3", "--quiet") == 1
    err = capsys.readouterr().err
    assert f"[{code}]" in err and "Traceback" not in err
    for name in names:
        assert name in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # neither OUT nor OUT.partial


class _Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


@SPOILS
def test_a_bad_record_on_standard_input_stops_the_run_after_the_valid_prefix(model, docs, reference, tmp_path, capsys, monkeypatch,
                                                                           spoil, code, names):
    """Standard input cannot be read twice: its records are checked as they are read, the documents before the bad one kept."""
    records = [{"id": d.id, "text": d.text, "meta": d.meta} for d in docs[:9]]
    data = ("\n".join(spoil([dict(r) for r in records])) + "\n").encode("utf-8")
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    assert predict(model, ["-"], tmp_path / "out.jsonl", "--buffer", "3", "--quiet") == 1
    err = capsys.readouterr().err
    assert f"[{code}]" in err and "[predict-stopped]" in err and "--resume" in err and "Traceback" not in err
    for name in names:
        assert name.replace("in.jsonl", "<stdin>") in err, err
    assert "4 documents predicted by this run" in err
    # the valid prefix: the four records before line 5, complete, in order; OUT itself is not written
    assert not (tmp_path / "out.jsonl").exists()
    assert_same_records(read_output(tmp_path / "out.jsonl.partial"), reference[:4])
    # fixed, the same command with --resume continues after them and ends with the uninterrupted output
    monkeypatch.setattr(sys, "stdin", _Stdin(write_records(tmp_path / "fixed.jsonl", docs[:9]).read_bytes()))
    assert predict(model, ["-"], tmp_path / "out.jsonl", "--buffer", "3", "--resume", "--quiet") == 0
    assert_same_records(read_output(tmp_path / "out.jsonl"), reference[:9])


def test_a_bad_first_record_writes_nothing(model, docs, tmp_path, capsys, monkeypatch):
    """Nothing valid before the bad record on standard input: no OUT.partial either (and no folder made for it)."""
    monkeypatch.setattr(sys, "stdin", _Stdin(('{"id": "a"}\n' + json.dumps({"id": "b", "text": docs[0].text}) + "\n").encode()))
    before = sorted(p.name for p in tmp_path.iterdir())
    assert predict(model, ["-"], tmp_path / "new" / "out.jsonl", "--quiet") == 1
    err = capsys.readouterr().err
    assert "[record]" in err and "<stdin>:1" in err and "before any document was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_bad_parquet_row_names_the_row(model, docs, tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    metas = [json.dumps(d.meta) for d in docs[:6]]
    metas[3] = "{not json"
    pq.write_table(pa.table({"id": [d.id for d in docs[:6]], "text": [d.text for d in docs[:6]], "meta": metas}), tmp_path / "in.parquet")
    assert predict(model, [tmp_path / "in.parquet"], tmp_path / "out.jsonl", "--buffer", "2", "--quiet") == 1
    err = capsys.readouterr().err
    assert "[meta]" in err and "in.parquet:4" in err and "'doc-03'" in err and "{not json" in err
    assert not (tmp_path / "out.jsonl.partial").exists() and not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("case", ["unknown-suffix", "no-suffix", "parquet-columns", "parquet-garbage", "buffer-0", "threads-0", "address-local",
                                  "resume-ray", "ray-parquet", "ray-missing"])
def test_refused_before_the_model_is_loaded(model, docs, tmp_path, capsys, monkeypatch, case):
    inputs = write_records(tmp_path / "in.jsonl", docs[:3])
    output, extra, expected = tmp_path / "out.jsonl", [], None
    if case == "unknown-suffix":
        output, expected = tmp_path / "out.csv", ("[output-format]", "'.csv'", ".parquet")
    elif case == "no-suffix":
        output, expected = tmp_path / "predictions", ("[output-format]", ".jsonl")
    elif case == "parquet-columns":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"doc_id": ["a"], "body": ["Goma."]}), tmp_path / "cols.parquet")
        inputs, expected = tmp_path / "cols.parquet", ("[parquet]", "cols.parquet", "'doc_id', 'body'")
    elif case == "parquet-garbage":
        (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
        inputs, expected = tmp_path / "junk.parquet", ("[parquet]", "junk.parquet")
    elif case == "buffer-0":
        extra, expected = ["--buffer", "0"], ("[predict-argument]", "--buffer 0")
    elif case == "threads-0":
        extra, expected = ["--threads", "0"], ("[predict-argument]", "--threads 0")
    elif case == "address-local":
        extra, expected = ["--address", "ray://head:10001"], ("[predict-argument]", "--address", "--engine ray")
    elif case == "resume-ray":
        extra, expected = ["--engine", "ray", "--resume"], ("[predict-argument]", "--resume", "--engine local")
    elif case == "ray-parquet":
        output, extra, expected = tmp_path / "out.parquet", ["--engine", "ray"], ("[predict-argument]", "--engine local")
    elif case == "ray-missing":
        monkeypatch.setitem(sys.modules, "conflict_spans.model.ray_engine", None)  # the import fails as for a missing module
        extra, expected = ["--engine", "ray"], ("[predict-engine]", "--engine local")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert predict(model, [inputs], output, *extra) == 1
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, err
    assert "Loading weights" not in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ---- progress -------------------------------------------------------------------------------------------

def test_progress_on_stderr_and_not_with_quiet(model, docs, tmp_path, capsys):
    inputs = write_records(tmp_path / "in.jsonl", docs[:8])
    assert predict(model, [inputs], tmp_path / "a.jsonl", "--buffer", "2") == 0
    err = capsys.readouterr().err
    summary = [line for line in err.splitlines() if line.startswith("predict: 8 documents")]
    assert len(summary) == 1 and "documents/s" in summary[0] and "words/s" in summary[0], err
    words = sum(len(d.text.split()) for d in docs[:8])
    assert f"{words:,} words in" in summary[0]
    assert predict(model, [inputs], tmp_path / "b.jsonl", "--buffer", "2", "--quiet") == 0
    assert "documents/s" not in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_refreshes_about_once_a_second():
    from conflict_spans.model.stream import Progress

    now = [0.0]
    stream = _Terminal()
    progress = Progress(stream, clock=lambda: now[0])
    for step in range(10):  # 10 buffers, 0.3 s apart: refreshed at 1.2, 2.4 (every 4th)
        now[0] += 0.3
        progress.add(5, 100)
    shown = stream.getvalue().split("\r\x1b[K")[1:]
    assert len(shown) == 2 and "20 documents" in shown[0] and "16.7 documents/s" in shown[0] and "333 words/s" in shown[0]
    progress.finish()
    assert stream.getvalue().endswith("50 documents, 1,000 words in 3.0 s: 16.7 documents/s, 333 words/s\n")
    quiet = _Terminal()
    silent = Progress(quiet, enabled=False, clock=lambda: now[0])
    silent.add(5, 100)
    silent.finish()
    assert quiet.getvalue() == ""


# ---- document confidence (uncertainty sampling in Label Studio) ---------------------------------------------------

def test_document_confidence_comes_with_the_same_spans_and_lies_in_0_1(model, docs):
    import math

    from conflict_spans.model.predict import load_predictor

    predictor = load_predictor(model)
    for doc in docs[:8]:
        spans, confidence = predictor.predict_spans_with_confidence(doc.text)
        assert spans == predictor.predict_spans(doc.text)
        assert 0.0 < confidence <= 1.0 and not math.isnan(confidence)
        assert predictor.predict_spans_with_confidence(doc.text)[1] == confidence  # deterministic
    assert len({round(predictor.predict_spans_with_confidence(d.text)[1], 6) for d in docs[:8]}) > 1
