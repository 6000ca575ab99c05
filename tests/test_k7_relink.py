"""The K7 re-annotation of location links (corpus/iaa/links/k7): the corpus follows the blind pass as written,
the committed agreement is what the script computes, and bad answer files are refused whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from support import load_script

ROOT = Path(__file__).resolve().parents[1]
K7 = ROOT / "corpus" / "iaa" / "links" / "k7"


@pytest.fixture(scope="module")
def relink():
    return load_script(ROOT / "scripts" / "relink_locations.py", "relink_locations")


@pytest.mark.parametrize("folder, documents", [("answers", 96), ("answers-train", 239)])
def test_corpus_location_links_are_the_blind_pass(relink, capsys, folder, documents):
    assert relink.main(["apply", str(K7 / folder), "--check"]) == 0
    assert f"{documents} documents read, 0 with changed location links" in capsys.readouterr().out


def test_committed_agreement_is_what_compare_computes(relink, tmp_path, capsys):
    out, md = tmp_path / "agreement.json", tmp_path / "AGREEMENT.md"
    assert relink.main(["compare", str(K7 / "answers"), str(K7 / "answers-second"), "--json", str(out), "--markdown", str(md)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads((K7 / "agreement.json").read_text(encoding="utf-8"))
    assert md.read_text(encoding="utf-8") == (K7 / "AGREEMENT.md").read_text(encoding="utf-8")
    row = [line for line in md.read_text(encoding="utf-8").splitlines() if line.startswith("| 12 |")][0]
    assert row in (ROOT / "corpus" / "README.md").read_text(encoding="utf-8"), "corpus/README.md: paste the K7 agreement row again"


def test_worksheets_show_spans_and_no_link(relink, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("sudan-019\n", encoding="utf-8")
    assert relink.main(["worksheets", "--ids", str(ids), str(tmp_path / "ws")]) == 0
    sheet = (tmp_path / "ws" / "sudan-019.txt").read_text(encoding="utf-8")
    assert "CASUALTY:killed}" in sheet and " LOCATION}" in sheet
    assert " location " not in sheet and "relations" not in sheet and "restates" not in sheet


@pytest.mark.parametrize("line, says", [
    ("0 near 3", "is not 'HEAD location TAIL' or 'HEAD none'"),
    ("{loc} location {loc}", "is not a CASUALTY figure"),
    ("{cas} location {cas}", "is not a LOCATION span"),
    ("{cas} location 9999", "is not a LOCATION span"),
])
def test_bad_answer_line_is_refused_with_file_and_line(relink, tmp_path, line, says):
    from conflict_spans.corpus.markup import read_markup_file

    doc = read_markup_file(relink.source_files()["sudan-019"])
    spans = sorted(doc.spans)
    cas = next(i for i, s in enumerate(spans) if s.label == "CASUALTY")
    loc = next(i for i, s in enumerate(spans) if s.label == "LOCATION")
    answers = tmp_path / "answers"
    shutil.copytree(K7 / "answers", answers)
    path = answers / "sudan-019.txt"
    path.write_text(path.read_text(encoding="utf-8") + line.format(cas=cas, loc=loc) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        relink.main(["apply", str(answers), "--check"])
    assert f"{path}:" in str(info.value) and says in str(info.value)


def test_missing_figure_is_refused_and_nothing_is_written(relink, tmp_path, monkeypatch):
    answers = tmp_path / "answers"
    shutil.copytree(K7 / "answers", answers)
    lines = (answers / "sudan-019.txt").read_text(encoding="utf-8").splitlines()
    last = lines[-1].split()[0]
    (answers / "sudan-019.txt").write_text("\n".join(x for x in lines if x.split()[0] != last) + "\n", encoding="utf-8")
    written = []
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: written.append(self))
    with pytest.raises(SystemExit) as info:
        relink.main(["apply", str(answers)])  # not --check: still nothing written, the bad file is found first
    assert "no answer for figure(s)" in str(info.value) and "sudan-019" in str(info.value)
    assert written == []
