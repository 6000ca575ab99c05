"""The blind link study (corpus/iaa/links) and the dataset card's figures from it: reproducible, never retyped."""

from __future__ import annotations

import json
from pathlib import Path

from conflict_spans.corpus.build import load_splits
from conflict_spans.corpus.markup import read_markup_file

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "corpus" / "iaa" / "links"


def test_sample_is_drawn_from_validation_and_test():
    sample = json.loads((STUDY / "sample.json").read_text(encoding="utf-8"))["ids"]
    splits = {split: {d.id for d in docs} for split, docs in load_splits().items()}
    assert len(sample) == len(set(sample)) == 15
    assert all(i in splits["validation"] | splits["test"] for i in sample)


def test_both_passes_annotate_the_corpus_texts():
    texts = {d.id: d.text for docs in load_splits().values() for d in docs}
    for side in ("first", "second"):
        docs = [read_markup_file(p) for p in sorted((STUDY / side).glob("*.txt"))]
        assert len(docs) == 15
        assert all(d.text == texts[d.id] for d in docs), side
        assert sum(len(d.relations) for d in docs) > 0


def test_committed_agreement_is_what_audit_computes(run_cli, tmp_path):
    out = tmp_path / "agreement.json"
    proc = run_cli("audit", STUDY / "first", "--agreement", STUDY / "second", "--format", "json", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads((STUDY / "agreement.json").read_text(encoding="utf-8"))


def test_card_link_table_is_the_committed_agreement():
    links = json.loads((STUDY / "agreement.json").read_text(encoding="utf-8"))["links"]
    card = (ROOT / "corpus" / "README.md").read_text(encoding="utf-8")
    for name, views in [*links["types"].items(), ("micro", links["micro"])]:
        a, o = views["all"], views["shared_spans"]
        row = f"| {name} | {a['n_a']} / {a['n_b']} | {a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} | {o['f1']:.3f} |"
        assert row in card, f"corpus/README.md: the link agreement row for {name} differs from corpus/iaa/links/agreement.json"
