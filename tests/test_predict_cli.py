"""`conflict-spans predict --model DIR INPUT -o OUTPUT`: offsets index the original text, whatever its characters."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import torch

from conflict_spans.cli import main as cli_main
from conflict_spans.document import is_word_char
from conflict_spans.model.predict import PREDICT_CONFIG
from conflict_spans.schema import LABEL2ID, LABEL_NAMES, STATUS_VALUES

from support import make_tiny_encoder, make_tiny_model

ROOT = Path(__file__).resolve().parents[1]

TEXTS = {
    "combining": "Police in Zu\u0308rich said 3 people were hurt when a car hit a crowd in Winterthur.",  # decomposed ü
    "accents": "Shelling in Sa\u0303o Tome\u0301 and Ka\u0308rnten killed 4, officials said; cafe\u0301 owners fled.",
    "emoji": "Goma🔥 burns; 👍🏽 M23 rebels took Bukavu 👨\u200d👩\u200d👧 today, killing 12, the army said 😢.",
    "crlf": "Drone strike hits Kharkiv\r\n\r\nKHARKIV — A Russian drone wounded 7 people in Kharkiv, Governor Oleh Syniehubov said.\r\n",
    "mixed": "\u200bKyiv: 2 dead.\tTabs\tand  double  spaces, «quotes» and 北京 — then Odesa.",
    "long": " ".join(["Gunmen killed at least 12 civilians in Goma on Sunday, the army said."] * 12),
}


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> Path:
    return make_tiny_encoder(tmp_path_factory.mktemp("encoder") / "encoder")


def forced_model(folder: Path, encoder: Path, tag: str) -> Path:
    """A casing model whose head says ``tag`` for every token (bias only), saved like train.py saves."""
    from transformers import AutoTokenizer

    from conflict_spans.model.network import build_token_classifier

    model = build_token_classifier(str(encoder), casing_features=True)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.bias[LABEL2ID[tag]] = 8.0
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(encoder)).save_pretrained(str(folder))
    (folder / PREDICT_CONFIG).write_text(json.dumps({"max_length": 16, "stride": 4, "decoding": "viterbi", "model_version": f"forced-{tag}"}))
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory, tokenizer_dir) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("predict-models")
    return {
        "every-word-b": forced_model(root / "b", tokenizer_dir, "B-LOCATION"),
        "one-span-i": forced_model(root / "i", tokenizer_dir, "I-CASUALTY"),
        "trained": make_tiny_model(root / "trained", epochs=15, extra_args=["--eval-strategy", "no", "--max-length", "24"]),
    }


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def predict(model: Path, inputs: list[Path], output: Path) -> list[dict]:
    assert cli_main(["predict", "--model", str(model), *map(str, inputs), "-o", str(output)]) == 0
    return read_output(output)


def is_ideograph(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH")


def at_word_boundary(text: str, i: int) -> bool:
    """Not between two word characters; a CJK ideograph is a word of its own (as BERT's tokenizer splits them)."""
    if i == 0 or i == len(text):
        return True
    a, b = text[i - 1], text[i]
    return not (is_word_char(a) and is_word_char(b)) or is_ideograph(a) or is_ideograph(b)


def check_record(record: dict, text: str) -> None:
    assert record["text"] == text
    previous_end = 0
    for span in record["spans"]:
        assert {"start", "end", "label", "score"} <= set(span) <= {"start", "end", "label", "score", "status", "text"}
        start, end = span["start"], span["end"]
        assert previous_end <= start < end <= len(text)
        surface = text[start:end]
        if "text" in span:
            assert span["text"] == surface
        assert surface == surface.strip()
        assert at_word_boundary(text, start) and at_word_boundary(text, end), f"{surface!r} cuts a word in {text!r}"
        assert span["label"] in LABEL_NAMES and 0 < span["score"] <= 1
        assert ("status" in span) == (span["label"] == "CASUALTY")
        if "status" in span:
            assert span["status"] in STATUS_VALUES
        previous_end = end


# ---- JSONL in, JSONL out ---------------------------------------------------------------------

@pytest.mark.parametrize("model_name", ["every-word-b", "one-span-i", "trained"])
def test_jsonl_records_round_trip_with_offsets_into_the_original_text(models, tmp_path, model_name) -> None:
    inputs = write_jsonl(tmp_path / "in.jsonl", [{"id": key, "text": text} for key, text in TEXTS.items()])
    records = predict(models[model_name], [inputs], tmp_path / "out.jsonl")
    assert [r["id"] for r in records] == list(TEXTS)
    for record in records:
        check_record(record, TEXTS[record["id"]])
    if model_name != "trained":
        assert all(r["spans"] for r in records)


def test_every_word_is_its_own_span(models, tmp_path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(models["every-word-b"]))
    inputs = write_jsonl(tmp_path / "in.jsonl", [{"id": key, "text": text} for key, text in TEXTS.items()])
    for record in predict(models["every-word-b"], [inputs], tmp_path / "out.jsonl"):
        text = record["text"]
        surfaces = [text[s["start"]:s["end"]] for s in record["spans"]]
        pieces = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        words = {}
        for (s, e), wid in zip(pieces["offset_mapping"], pieces.word_ids()):
            words.setdefault(wid, [s, e])[1] = e
        # a word without a letter or digit ("," "😢") leaves no valid span, and the pieces of a CJK word become one span
        merged: list[list[int]] = []
        for s, e in sorted(w for w in words.values() if any(is_word_char(c) for c in text[w[0]:w[1]])):
            if merged and s == merged[-1][1] and is_word_char(text[s - 1]) and is_word_char(text[s]):
                merged[-1][1] = e
            else:
                merged.append([s, e])
        assert len(surfaces) == len(merged)
        assert all(s["label"] == "LOCATION" for s in record["spans"])
    by_id = {r["id"]: r for r in read_output(tmp_path / "out.jsonl")}
    surfaces = {by_id["combining"]["text"][s["start"]:s["end"]] for s in by_id["combining"]["spans"]}
    assert "Zu\u0308rich" in surfaces  # the combining mark stays inside the span
    surfaces = {by_id["accents"]["text"][s["start"]:s["end"]] for s in by_id["accents"]["spans"]}
    assert {"Sa\u0303o", "Tome\u0301", "cafe\u0301"} <= surfaces  # ... also when it ends the word
    emoji = by_id["emoji"]
    assert "Bukavu" in {emoji["text"][s["start"]:s["end"]] for s in emoji["spans"]}  # code points, not UTF-16 units


def test_one_span_covers_the_whole_text_across_emoji_and_crlf(models, tmp_path) -> None:
    inputs = write_jsonl(tmp_path / "in.jsonl", [{"id": key, "text": text} for key, text in TEXTS.items()])
    for record in predict(models["one-span-i"], [inputs], tmp_path / "out.jsonl"):
        text = record["text"]
        [span] = record["spans"]
        first = next(i for i, c in enumerate(text) if not c.isspace() and c != "\u200b")
        # the span runs to the last letter or digit before the first line break (spec G1, G10)
        end = next((i for i in range(first, len(text)) if text[i] in "\r\n"), len(text))
        while not is_word_char(text[end - 1]):
            end -= 1
        assert span["start"] == first and span["end"] == end
        assert span["label"] == "CASUALTY" and span["status"] in STATUS_VALUES


# ---- plain text files ----------------------------------------------------------------------

def test_plain_text_files_keep_crlf_and_take_the_file_name_as_id(models, tmp_path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    for key in ("crlf", "emoji", "combining"):
        (folder / f"{key}.txt").write_bytes(TEXTS[key].encode("utf-8"))  # bytes: no newline translation
    records = predict(models["every-word-b"], [folder], tmp_path / "out.jsonl")
    assert sorted(r["id"] for r in records) == ["combining", "crlf", "emoji"]
    for record in records:
        check_record(record, TEXTS[record["id"]])
    crlf = next(r for r in records if r["id"] == "crlf")
    assert "\r\n" in crlf["text"]
    assert any(crlf["text"][s["start"]:s["end"]] == "KHARKIV" for s in crlf["spans"])


def test_jsonl_and_text_files_together_in_input_order(models, tmp_path) -> None:
    text_file = tmp_path / "note.txt"
    text_file.write_bytes(TEXTS["crlf"].encode("utf-8"))
    inputs = write_jsonl(tmp_path / "in.jsonl", [{"id": "b", "text": TEXTS["mixed"]}, {"id": "a", "text": TEXTS["emoji"]}])
    records = predict(models["every-word-b"], [inputs, text_file], tmp_path / "out.jsonl")
    assert [r["id"] for r in records] == ["b", "a", "note"]


def test_the_installed_command_runs(models, tmp_path) -> None:
    script = Path(sys.executable).with_name("conflict-spans")
    command = [str(script)] if script.exists() else [shutil.which("conflict-spans") or "conflict-spans"]
    inputs = write_jsonl(tmp_path / "in.jsonl", [{"id": "crlf", "text": TEXTS["crlf"]}, {"id": "emoji", "text": TEXTS["emoji"]}])
    proc = subprocess.run([*command, "predict", "--model", str(models["trained"]), str(inputs), "-o", str(tmp_path / "out.jsonl")],
                          capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = read_output(tmp_path / "out.jsonl")
    for record in records:
        check_record(record, TEXTS[record["id"]])


# ---- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("line, message", [
    ('{"id": "x"}', 'needs a string "text"'),
    ('{"id": "x", "text": ', "malformed JSON"),
])
def test_bad_input_is_reported_with_file_and_line(models, tmp_path, capsys, line, message) -> None:
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('{"id": "ok", "text": "Goma."}\n' + line + "\n", encoding="utf-8")
    assert cli_main(["predict", "--model", str(models["every-word-b"]), str(inputs), "-o", str(tmp_path / "out.jsonl")]) == 1
    err = capsys.readouterr().err
    assert message in err and f"{inputs}:2" in err
    assert not (tmp_path / "out.jsonl").exists()


def test_a_model_with_other_labels_is_refused(tokenizer_dir, tmp_path, capsys) -> None:
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    folder = tmp_path / "foreign"
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                        num_labels=3, id2label={0: "O", 1: "B-PER", 2: "I-PER"}, label2id={"O": 0, "B-PER": 1, "I-PER": 2})
    BertForTokenClassification(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    inputs = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Goma."}])
    assert cli_main(["predict", "--model", str(folder), str(inputs), "-o", str(tmp_path / "out.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "B-PER" in err and "label-map" in err
    assert not (tmp_path / "out.jsonl").exists()
