"""`conflict-spans export --onnx [--int8]` and prediction through ONNX Runtime (conflict_spans/model/onnx.py).

Tiny models (with and without casing features), exported once per module; the
speed and the F1 on the real model are benchmarks (scripts/benchmark_predict.py),
not tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conflict_spans.cli import main as cli_main
from conflict_spans.document import Document, check_spans
from conflict_spans.model import onnx as onnx_export
from conflict_spans.model import ort as onnx_runtime
from conflict_spans.model.predict import load_predictor
from conflict_spans.model.windows import encode_document
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABEL_NAMES

from support import make_tiny_model, tiny_documents

TEXTS = [
    ("long", " ".join(["Gunmen killed at least 12 civilians in Goma on Sunday, the army said."] * 6)),
    ("casing", "HOUTHIS fire at a tanker off Hodeidah\n\nthe u.s. military said no one was hurt; Rapid Support Forces shelled El Fasher."),
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """{"casing": (train.py folder, its export with int8), "plain": (...)}; the casing export goes through the CLI."""
    root = tmp_path_factory.mktemp("onnx")
    out = {}
    for kind, casing in (("casing", True), ("plain", False)):
        model = make_tiny_model(root / kind, casing_features=casing, epochs=15, extra_args=["--eval-strategy", "no", "--max-length", "24"])
        if kind == "casing":
            assert cli_main(["export", "--onnx", "--int8", "--model", str(model), "-o", str(root / f"{kind}-onnx")]) == 0
        else:
            onnx_export.export_onnx(model, root / f"{kind}-onnx", int8=True)
        out[kind] = (model, root / f"{kind}-onnx")
    return out


def documents() -> list[Document]:
    return [*tiny_documents(), *(Document(doc_id, text, []) for doc_id, text in TEXTS)]


def spans_of(docs: list[Document]) -> list[list[tuple]]:
    return [[(s.start, s.end, s.label, s.status) for s in d.spans] for d in docs]


@pytest.mark.parametrize("kind", ["casing", "plain"])
def test_the_export_is_a_model_folder_with_the_inputs_the_model_uses(exported, kind):
    model, folder = exported[kind]
    info = json.loads((folder / onnx_export.EXPORT_INFO).read_text(encoding="utf-8"))
    assert set(info["files"]) == {"model.onnx", "model.int8.onnx"}
    expected = ["input_ids", "attention_mask", "token_type_ids"] + (["casing_ids"] if kind == "casing" else [])
    assert info["inputs"] == expected
    assert [i.name for i in onnx_runtime.onnx_session(folder / "model.onnx", threads=1).get_inputs()] == expected
    for name in ("predict_config.json", "tokenizer.json"):
        assert (folder / name).read_bytes() == (model / name).read_bytes()
    # config.json without the transformers remote code (model/hub), which runs torch weights the export does not carry
    source, exported_config = (json.loads((where / "config.json").read_text(encoding="utf-8")) for where in (model, folder))
    assert "custom_pipelines" in source and not {"auto_map", "custom_pipelines"} & exported_config.keys()
    assert exported_config == {k: v for k, v in source.items() if k not in ("auto_map", "custom_pipelines")}
    assert not (folder / onnx_export.PARTIAL).exists() and not (folder / "model.safetensors").exists()


@pytest.mark.parametrize("kind", ["casing", "plain"])
def test_onnx_runtime_fp32_predicts_the_spans_pytorch_predicts(exported, kind):
    model, folder = exported[kind]
    torch_predictor, ort_predictor = load_predictor(model, batch_size=4), load_predictor(folder, batch_size=4)
    assert type(ort_predictor.model).__name__ == "OnnxTokenClassifier" and ort_predictor.model.casing_features == (kind == "casing")
    docs = documents()
    encoded = [encode_document(torch_predictor.tokenizer, d, max_length=torch_predictor.max_length, stride=torch_predictor.stride,
                               with_labels=False, full_last=True) for d in docs]
    assert max(len(e.windows) for e in encoded) > 1  # several windows per document, padded batches
    for a, b in zip(torch_predictor.window_log_probs(encoded), ort_predictor.window_log_probs(encoded)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, atol=1e-4)
    expected = spans_of(torch_predictor.predict_documents(docs))
    assert sum(map(len, expected)) > 5  # a comparison of empty outputs would prove nothing
    assert spans_of(ort_predictor.predict_documents(docs)) == expected


def test_the_exports_tokenizer_windows_every_corpus_text_as_transformers_does(exported):
    """An export is tokenized by the tokenizers library over tokenizer.json (model/ort.py), not by transformers: the windows of
    every corpus document (ids, offsets, words, casing ids, token types) are the ones transformers' fast tokenizer gives."""
    from transformers import AutoTokenizer

    from conflict_spans.corpus.io import read_documents
    from conflict_spans.paths import DATA_DIR

    _, folder = exported["casing"]
    ours = load_predictor(folder).tokenizer
    assert type(ours).__name__ == "FolderTokenizer"
    reference = AutoTokenizer.from_pretrained(str(folder))
    docs = [d for split in ("train", "validation", "test") for d in read_documents(DATA_DIR / f"{split}.jsonl")] + documents()
    assert len(docs) > 600
    for doc in docs:
        a, b = (encode_document(tok, doc, max_length=128, stride=8, with_labels=False, full_last=True) for tok in (reference, ours))
        assert a.words == b.words, doc.id
        assert [vars(w) for w in a.windows] == [vars(w) for w in b.windows], doc.id
    assert ours.pad_token_id == reference.pad_token_id


def test_prediction_through_an_export_imports_neither_torch_nor_transformers(exported, tmp_path):
    """Whole processes over an archive pay for every import: the export path loads onnxruntime and tokenizers only."""
    import subprocess
    import sys

    _, folder = exported["casing"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in documents()), encoding="utf-8")
    script = ("import sys\nfrom conflict_spans.cli import main\n"
              f"code = main(['predict', '--model', {str(folder)!r}, {str(source)!r}, '-o', {str(tmp_path / 'out.jsonl')!r}, '--int8', '--quiet'])\n"
              "print(code, sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "0 []", done.stdout
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [[(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in records] == \
        [[(s.start, s.end, s.label) for s in d.spans] for d in load_predictor(folder, int8=True).predict_documents(documents())]


def test_casing_ids_reach_the_exported_graph(exported):
    """The same words in other capitals: the casing export's logits move, as the torch model's do."""
    _, folder = exported["casing"]
    predictor = load_predictor(folder)
    lower, upper = (encode_document(predictor.tokenizer, Document("d", text, []), max_length=24, stride=8, with_labels=False)
                    for text in ("gunmen killed five in goma", "GUNMEN killed Five in GOMA"))
    assert lower.windows[0].input_ids == upper.windows[0].input_ids and lower.windows[0].casing_ids != upper.windows[0].casing_ids
    a, b = (predictor.window_log_probs([e])[0][0] for e in (lower, upper))
    assert np.abs(a - b).max() > 1e-3


@pytest.mark.parametrize("kind", ["casing", "plain"])
def test_onnx_runtime_int8_runs_and_returns_valid_spans(exported, kind):
    _, folder = exported[kind]
    predictor = load_predictor(folder, int8=True)
    docs = documents()
    predicted = predictor.predict_documents(docs)
    assert [d.id for d in predicted] == [d.id for d in docs]
    for doc in predicted:
        assert all(s.label in LABEL_NAMES and 0 <= s.start < s.end <= len(doc.text) for s in doc.spans)
        assert not check_spans(Document(doc.id, doc.text, [s for s in doc.spans])), doc.spans


def test_predict_cli_runs_an_exported_folder(exported, tmp_path):
    model, folder = exported["casing"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in documents()), encoding="utf-8")
    outputs = {}
    for name, model_dir in (("torch", model), ("onnx", folder)):
        assert cli_main(["predict", "--model", str(model_dir), str(source), "-o", str(tmp_path / f"{name}.jsonl")]) == 0
        records = map(json.loads, (tmp_path / f"{name}.jsonl").read_text(encoding="utf-8").splitlines())
        # scores agree to about 1e-6, not to the last printed digit
        outputs[name] = [(r["id"], [(s["start"], s["end"], s["label"], s.get("status")) for s in r["spans"]]) for r in records]
    assert outputs["onnx"] == outputs["torch"] and any(spans for _, spans in outputs["torch"])


def test_predict_cli_int8_runs_the_int8_file_with_the_threads_asked(exported, tmp_path, monkeypatch):
    """--int8 picks model.int8.onnx (its spans are those of load_predictor(int8=True)); --threads reaches ONNX Runtime."""
    _, folder = exported["casing"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in documents()), encoding="utf-8")
    sessions = []
    real = onnx_runtime.onnx_session
    monkeypatch.setattr(onnx_runtime, "onnx_session", lambda path, threads=None: sessions.append((Path(path).name, threads)) or real(path, threads=threads))
    assert cli_main(["predict", "--model", str(folder), str(source), "-o", str(tmp_path / "int8.jsonl"), "--int8", "--threads", "1", "--quiet"]) == 0
    assert sessions == [("model.int8.onnx", 1)]
    records = [json.loads(line) for line in (tmp_path / "int8.jsonl").read_text(encoding="utf-8").splitlines()]
    expected = spans_of(load_predictor(folder, int8=True).predict_documents(documents()))
    assert [[(s["start"], s["end"], s["label"], s.get("status")) for s in r["spans"]] for r in records] == expected


# ---- bad input: each class its own test -------------------------------------------------------------

def codes(exc: pytest.ExceptionInfo) -> list[str]:
    return [p.code for p in exc.value.problems]


def test_export_refuses_a_model_argument_that_is_not_a_model_folder(exported, tmp_path):
    model, folder = exported["plain"]
    for bad in (tmp_path / "missing", folder):  # nothing there; an export (no torch weights)
        with pytest.raises(CorpusError) as exc:
            onnx_export.export_onnx(bad, tmp_path / "out")
        assert "model-folder" in codes(exc)
        assert not (tmp_path / "out").exists()


def test_export_refuses_the_model_folder_or_a_folder_inside_it(exported):
    model, _ = exported["plain"]
    before = sorted(p.name for p in model.iterdir())
    for out in (model, model / "onnx", model / "." / "deeper" / "onnx"):
        with pytest.raises(CorpusError) as exc:
            onnx_export.export_onnx(model, out)
        assert codes(exc) == ["export-output"]
    assert sorted(p.name for p in model.iterdir()) == before


def test_export_refuses_an_output_folder_that_holds_files(exported, tmp_path):
    model, _ = exported["plain"]
    out = tmp_path / "old"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(CorpusError) as exc:
        onnx_export.export_onnx(model, out)
    assert codes(exc) == ["export-output"]
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_export_refuses_an_output_that_is_a_file(exported, tmp_path):
    model, _ = exported["plain"]
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError) as exc:
        onnx_export.export_onnx(model, tmp_path / "file")
    assert codes(exc) == ["output-path"]


def test_the_cli_prints_the_problem_and_exits_1(exported, tmp_path, capsys):
    model, _ = exported["plain"]
    assert cli_main(["export", "--onnx", "--model", str(model), "-o", str(model / "onnx")]) == 1
    assert "[export-output]" in capsys.readouterr().err and not (model / "onnx").exists()


def test_a_failed_export_leaves_nothing(exported, tmp_path, monkeypatch):
    model, _ = exported["plain"]

    def broken(*args, **kwargs):
        Path(args[2]).write_bytes(b"half a graph")
        raise RuntimeError("exporter failed")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(RuntimeError):
        onnx_export.export_onnx(model, tmp_path / "new" / "onnx")
    assert not (tmp_path / "new" / "onnx").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError):
        onnx_export.export_onnx(model, tmp_path / "empty")
    assert (tmp_path / "empty").is_dir() and not any((tmp_path / "empty").iterdir())  # the user's empty folder stays, empty


def test_int8_needs_an_int8_export(exported, tmp_path):
    model, folder = exported["plain"]
    fp32_only = tmp_path / "fp32-only"
    fp32_only.mkdir()
    for item in folder.iterdir():
        if item.name != "model.int8.onnx":
            (fp32_only / item.name).write_bytes(item.read_bytes())
    for where in (fp32_only, model):  # an export without --int8; a train.py folder
        with pytest.raises(CorpusError) as exc:
            load_predictor(where, int8=True)
        assert codes(exc) == ["onnx-file"]


def test_an_export_runs_on_the_cpu_only(exported):
    _, folder = exported["plain"]
    with pytest.raises(CorpusError) as exc:
        onnx_runtime.load_onnx_classifier(folder, device="cuda")
    assert codes(exc) == ["onnx-device"]


def test_an_export_without_its_tokenizer_is_named(exported, tmp_path):
    _, folder = exported["plain"]
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("model.onnx", "config.json"):
        (broken / name).write_bytes((folder / name).read_bytes())
    with pytest.raises(CorpusError) as exc:
        load_predictor(broken)
    assert codes(exc) == ["model-folder"] and "tokenizer" in exc.value.problems[0].value
