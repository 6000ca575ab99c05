"""Relations between spans (issue 11): schema, JSONL, validate, readers, markup trailer, CoNLL, HF and Label Studio results."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET

import pytest

from conflict_spans.annotation.labelstudio.config import config_names, labeling_config_xml, schema_names
from conflict_spans.annotation.labelstudio.results import results_to_document, spans_to_results
from conflict_spans.corpus.formats import features, row_to_document, to_dataset_dict
from conflict_spans.corpus.markup import RELATIONS_MARK, document_to_markup, markup_to_document
from conflict_spans.corpus.provenance import PROVENANCE_KEY
from conflict_spans.document import Document, Relation, document_from_dict
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABEL_NAMES, RELATION_NAMES, RELATIONS

from support import spans_from_marks

# ---- documents -------------------------------------------------------------------------------

TEXT = ("Rebels kill 40 in Gao, army says\n\n"
        "GAO — Rebels killed 40 people, including 12 children, in Gao, the army said. Rebels also wounded 7 others. "
        "The 40 dead were buried in Gao on Monday.")
MARKS = [
    ("Rebels", "ACTOR"),  # 0
    ("40", "CASUALTY", "killed"),  # 1  first mention
    ("Gao", "LOCATION"),  # 2
    ("army", "ATTRIBUTION"),  # 3
    ("GAO", "LOCATION"),  # 4  dateline
    ("Rebels", "ACTOR"),  # 5
    ("40 people", "CASUALTY", "killed"),  # 6  restates 1
    ("12 children", "CASUALTY", "killed"),  # 7  part_of 1
    ("Gao", "LOCATION"),  # 8
    ("army", "ATTRIBUTION"),  # 9
    ("Rebels", "ACTOR"),  # 10
    ("7 others", "CASUALTY", "injured"),  # 11
    ("40 dead", "CASUALTY", "killed"),  # 12 restates 1
    ("Gao", "LOCATION"),  # 13
]
LINKS = [(1, "perpetrator", 0), (1, "location", 2), (1, "source", 3),
         (6, "restates", 1), (6, "perpetrator", 5), (6, "location", 8), (6, "source", 9),
         (7, "part_of", 1),
         (11, "perpetrator", 10), (11, "location", 4),
         (12, "restates", 1), (12, "location", 13)]
META = {"conflict": "sahel", "country": "Mali", "genre": "brief"}

OTHER_TEXT = "Shelling wounded 3 in Kharkiv, officials said on Tuesday after a night of attacks on the city."
OTHER_MARKS = [("3", "CASUALTY", "injured"), ("Kharkiv", "LOCATION"), ("officials", "ATTRIBUTION")]
OTHER_LINKS = [(0, "location", 1), (0, "source", 2)]

PLAIN_TEXT = "The Houthis fired two missiles at a tanker off Hodeidah, the U.S. military said."
PLAIN_MARKS = [("Houthis", "ACTOR"), ("Hodeidah", "LOCATION"), ("U.S. military", "ATTRIBUTION")]


def make_doc(doc_id: str = "sahel-901", text: str = TEXT, marks=MARKS, links=LINKS, meta=None) -> Document:
    spans = spans_from_marks(text, marks)
    assert spans == sorted(spans)  # the marks are listed in text order, so the numbers above are the record's indices
    return Document(doc_id, text, spans, dict(META if meta is None else meta), [Relation(spans[h], spans[t], kind) for h, kind, t in links])


def base_record(doc_id: str = "sahel-901") -> dict:
    return make_doc(doc_id).to_dict()


def other_doc() -> Document:
    return make_doc("ukraine-901", OTHER_TEXT, OTHER_MARKS, OTHER_LINKS, {"conflict": "ukraine", "country": "Ukraine", "genre": "brief"})


def plain_doc() -> Document:
    return make_doc("yemen-901", PLAIN_TEXT, PLAIN_MARKS, [], {"conflict": "yemen", "country": "Yemen", "genre": "brief"})


def write_records(path, records) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def links_of(record: dict) -> set[tuple]:
    """Relations of a record as ((head start, head text), type, (tail start, tail text)): independent of the span numbering."""
    spans = record["spans"]

    def end(i: int) -> tuple[int, str]:
        return spans[i]["start"], spans[i]["text"]

    return {(end(r["from"]), r["type"], end(r["to"])) for r in record["relations"]}


# ---- 1. schema -------------------------------------------------------------------------------

def test_every_relation_starts_at_a_casualty_and_ends_at_a_known_label():
    assert RELATIONS
    for kind in RELATIONS:
        assert kind.head == "CASUALTY", kind
        assert kind.tail in LABEL_NAMES, kind


def test_relation_names_are_unique():
    assert len(set(RELATION_NAMES)) == len(RELATION_NAMES) == len(RELATIONS)


def test_label_studio_config_has_one_relation_value_per_type_in_schema_order():
    root = ET.fromstring(labeling_config_xml())
    tags = list(root.iter("Relations"))
    assert len(tags) == 1
    assert tuple(el.get("value") for el in tags[0].iter("Relation")) == RELATION_NAMES
    assert schema_names().relation_values == RELATION_NAMES


def test_hf_relations_class_label_names_are_the_relation_names():
    assert features()["relations"].feature["type"].names == list(RELATION_NAMES)


# ---- 2. JSONL round trip --------------------------------------------------------------------

def test_jsonl_round_trip_keeps_relations():
    record = base_record()
    assert len(record["relations"]) == len(LINKS)
    doc, problems = document_from_dict(record, path="x.jsonl", line=1)
    assert problems == [] and doc is not None
    assert doc.to_dict() == record
    # the indices point into the sorted spans list: spot-check the meaning of two links
    spans = record["spans"]
    written = {(spans[r["from"]]["text"], r["type"], spans[r["to"]]["text"]) for r in record["relations"]}
    assert ("12 children", "part_of", "40") in written and ("40 dead", "restates", "40") in written


def test_relations_on_spans_given_out_of_order_map_to_the_right_spans():
    record = base_record()
    n = len(record["spans"])
    order = list(range(n))[::2] + list(range(n))[1::2][::-1]  # a fixed shuffle
    assert sorted(order) == list(range(n)) and order != list(range(n))
    new_index = {old: new for new, old in enumerate(order)}
    shuffled = {**record, "spans": [record["spans"][old] for old in order],
                "relations": [{**r, "from": new_index[r["from"]], "to": new_index[r["to"]]} for r in reversed(record["relations"])]}
    assert shuffled["relations"] != record["relations"]
    doc, problems = document_from_dict(shuffled, path="x.jsonl", line=1)
    assert problems == [] and doc is not None
    out = doc.to_dict()
    assert out == record
    assert links_of(out) == links_of(shuffled)


# ---- 3. validate: one test per bad-input class ---------------------------------------------

def _validate_bad(run_cli, tmp_path, mutate):
    """Line 1 a good document, line 2 the base document changed by ``mutate``; returns (result, path)."""
    bad = base_record()
    mutate(bad)
    path = tmp_path / "links.jsonl"
    write_records(path, [other_doc().to_dict(), bad])
    return run_cli("validate", path), path


def _error_codes(output: str) -> set[str]:
    return set(re.findall(r"^ERROR \[([\w-]+)\]", output, flags=re.M))


def _link(record: dict, head: int, kind: str, tail: int) -> dict:
    return {"from": head, "to": tail, "type": kind}


def _replace(record: dict, old: tuple, new: tuple) -> None:
    i = record["relations"].index(_link(record, *old))
    record["relations"][i] = _link(record, *new)


def _add(record: dict, *links: tuple) -> None:
    record["relations"] += [_link(record, *link) for link in links]


BAD_INPUTS = [
    ("relations not a list", lambda r: r.update(relations={"from": 1, "to": 3, "type": "source"}), "relations", "dict"),
    ("relation missing type", lambda r: r["relations"].append({"from": 1, "to": 3}), "relation", "{'from': 1, 'to': 3}"),
    ("index out of range", lambda r: _add(r, (1, "source", 99)), "relation-end", "99"),
    ("unknown type", lambda r: _add(r, (1, "victim", 3)), "relation-type", "victim"),
    ("labels not allowed for the type", lambda r: _add(r, (1, "source", 2)), "relation-labels", "'Gao'"),
    ("self link", lambda r: _add(r, (11, "part_of", 11)), "relation-self", "'7 others'"),
    ("duplicate link", lambda r: _add(r, (1, "source", 3)), "relation-duplicate", "'army'"),
    ("two part_of from one head", lambda r: _add(r, (7, "part_of", 6)), "relation-single", "'40 people'"),
    ("restates pointing forward", lambda r: _replace(r, (6, "restates", 1), (6, "restates", 12)), "relation-order", "'40 people'"),
    ("restates to a mention that restates", lambda r: _replace(r, (12, "restates", 1), (12, "restates", 6)), "relation-first", "'40 dead'"),
    ("part_of joining killed and injured", lambda r: _add(r, (11, "part_of", 6)), "relation-status", "'7 others'"),
]


@pytest.mark.parametrize("case, mutate, code, named", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_validate_reports_bad_relation(run_cli, tmp_path, case, mutate, code, named):
    result, path = _validate_bad(run_cli, tmp_path, mutate)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert _error_codes(output) == {code}, output
    line = next(x for x in output.splitlines() if x.startswith(f"ERROR [{code}]"))
    assert f"{path}:2 record 'sahel-901'" in line, line
    assert named in line, line
    assert "Fix:" in line


def test_validate_accepts_a_file_with_links(run_cli, tmp_path):
    path = tmp_path / "links.jsonl"
    write_records(path, [other_doc().to_dict(), base_record(), plain_doc().to_dict()])
    result = run_cli("validate", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 documents checked: 0 errors" in result.stdout
    assert "relation" not in result.stderr


# ---- 4. every reader refuses an unknown relation type -------------------------------------

def _unknown_type_file(tmp_path):
    record = base_record()
    _add(record, (1, "victim", 3))
    path = tmp_path / "in.jsonl"
    write_records(path, [other_doc().to_dict(), record])
    return path


def test_stats_refuses_unknown_relation_type(run_cli, tmp_path):
    path = _unknown_type_file(tmp_path)
    result = run_cli("stats", path)
    assert result.returncode == 1
    assert "[relation-type]" in result.stderr and "'victim'" in result.stderr and f"{path}:2" in result.stderr
    assert result.stdout == ""  # no table printed


def test_conll_refuses_unknown_relation_type(run_cli, tmp_path):
    path = _unknown_type_file(tmp_path)
    out = tmp_path / "out.conll"
    result = run_cli("conll", path, out)
    assert result.returncode == 1
    assert "[relation-type]" in result.stderr and "'victim'" in result.stderr and f"{path}:2" in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind either


def test_markup_refuses_unknown_relation_type(run_cli, tmp_path):
    path = _unknown_type_file(tmp_path)
    out = tmp_path / "src"
    result = run_cli("markup", path, out)
    assert result.returncode == 1
    assert "[relation-type]" in result.stderr and "'victim'" in result.stderr
    assert not out.exists() or list(out.rglob("*")) == []


# ---- 5. markup trailer ------------------------------------------------------------------------

def test_markup_round_trip_with_trailer():
    doc = make_doc()
    source = document_to_markup(doc)
    assert f"\n{RELATIONS_MARK}\n" in source
    # quotes are written, span numbers counted from 0 in text order
    assert '7 part_of 1  # "12 children" -> "40"' in source.splitlines()
    assert '12 restates 1  # "40 dead" -> "40"' in source.splitlines()
    back = markup_to_document(source, path="sahel-901.txt")
    assert back.to_dict() == doc.to_dict()
    assert document_to_markup(back) == source


def test_markup_trailer_is_optional():
    doc = make_doc(links=[])
    source = document_to_markup(doc)
    assert RELATIONS_MARK not in source
    back = markup_to_document(source)
    assert back.relations == [] and back.to_dict() == doc.to_dict()
    # links written without quotes are read too
    with_links = source + f"{RELATIONS_MARK}\n7 part_of 1\n\n# a comment line\n"
    back = markup_to_document(with_links)
    assert [(r.head.text_in(back.text), r.type, r.tail.text_in(back.text)) for r in back.relations] == [("12 children", "part_of", "40")]


def _bad_trailer(line: str) -> tuple[str, int]:
    """The base document's markup with ``line`` added to its trailer; returns the source and the file line number of ``line``."""
    source = document_to_markup(make_doc()) + line + "\n"
    number = source.split("\n").index(line) + 1
    assert source.split("\n")[0] == "---" and number > len(TEXT.split("\n")) + 5  # counted from the header's first line
    return source, number


BAD_TRAILERS = [
    ("not FROM TYPE TO", "1 source", "markup"),
    ("span number out of range", "1 source 14", "markup"),
    ("quotes do not match the spans", '1 source 2  # "40" -> "army"', "markup"),
    ("unknown type", "1 victim 3", "relation-type"),
]


@pytest.mark.parametrize("case, line, code", BAD_TRAILERS, ids=[c[0] for c in BAD_TRAILERS])
def test_markup_bad_trailer_line(case, line, code):
    source, number = _bad_trailer(line)
    with pytest.raises(CorpusError) as err:
        markup_to_document(source, path="sahel-901.txt")
    [problem] = err.value.problems
    assert (problem.code, problem.path, problem.line, problem.record) == (code, "sahel-901.txt", number, "sahel-901")
    assert line.split()[1] in str(problem.value)


def test_markup_quote_mismatch_names_the_real_span_texts():
    source, _ = _bad_trailer('1 source 2  # "40" -> "army"')
    with pytest.raises(CorpusError) as err:
        markup_to_document(source)
    assert "'40' and 'Gao'" in err.value.problems[0].message


def test_markup_refuses_text_with_a_relations_line():
    text = f"Rebels kill 40 in Gao\n{RELATIONS_MARK}\nThe army said so."
    doc = Document("sahel-902", text, spans_from_marks(text, [("40", "CASUALTY", "killed"), ("Gao", "LOCATION")]), dict(META))
    with pytest.raises(CorpusError) as err:
        document_to_markup(doc)
    [problem] = err.value.problems
    assert problem.code == "markup" and problem.record == "sahel-902" and RELATIONS_MARK in problem.message


def test_cli_markup_then_build_keeps_relations(run_cli, tmp_path):
    docs = [make_doc(), other_doc(), plain_doc()]
    source = tmp_path / "in.jsonl"
    write_records(source, [d.to_dict() for d in docs])
    src = tmp_path / "src"
    result = run_cli("markup", source, src)
    assert result.returncode == 0, result.stderr
    assert RELATIONS_MARK in (src / "sahel-901.txt").read_text(encoding="utf-8")
    assert RELATIONS_MARK not in (src / "yemen-901.txt").read_text(encoding="utf-8")
    data = tmp_path / "data"
    result = run_cli("build", "--src", src, "--out", data, "--splits", tmp_path / "splits.json")
    assert result.returncode == 0, result.stdout + result.stderr
    built = {}
    for split in ("train", "validation", "test"):
        for line in (data / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            record["meta"].pop(PROVENANCE_KEY)
            built[record["id"]] = record
    assert built == {d.id: d.to_dict() for d in docs}
    assert len(built["sahel-901"]["relations"]) == len(LINKS)


# ---- 6. CoNLL -------------------------------------------------------------------------------

def test_conll_warns_how_many_relations_are_dropped(run_cli, tmp_path):
    docs = [make_doc(), plain_doc(), other_doc()]
    n = sum(len(d.relations) for d in docs)
    assert n == len(LINKS) + len(OTHER_LINKS)
    path = tmp_path / "in.jsonl"
    write_records(path, [d.to_dict() for d in docs])
    out = tmp_path / "out.conll"
    result = run_cli("conll", path, out)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").count("-DOCSTART-") == 3
    [warning] = [x for x in result.stderr.splitlines() if "[relations-dropped]" in x]
    assert warning.startswith("WARNING")
    assert f"{n} relations in 2 documents" in warning and str(out) in warning


def test_conll_without_relations_gives_no_warning(run_cli, tmp_path):
    path = tmp_path / "in.jsonl"
    write_records(path, [plain_doc().to_dict(), make_doc(links=[]).to_dict()])
    out = tmp_path / "out.conll"
    result = run_cli("conll", path, out)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").count("-DOCSTART-") == 2
    assert "relations" not in result.stderr and "WARNING" not in result.stderr


# ---- 7. Hugging Face ------------------------------------------------------------------------

def test_hf_rows_give_back_spans_and_relations():
    docs = [make_doc(), plain_doc(), other_doc()]
    dataset = to_dataset_dict({"train": docs})["train"]
    assert dataset.num_rows == 3
    for doc, row in zip(docs, dataset):
        back = row_to_document(row)
        assert back.id == doc.id
        assert back.spans == sorted(doc.spans)
        assert sorted(back.relations) == sorted(doc.relations)
        assert back.to_dict()["relations"] == doc.to_dict()["relations"]


# ---- 8. Label Studio results ----------------------------------------------------------------

NAMES = schema_names()


def _ls_doc() -> Document:
    return make_doc()


def _read(results, doc: Document):
    return results_to_document(results, doc.text, NAMES, task_id=7, record=doc.id)


def _relation_results(results):
    return [r for r in results if r.get("type") == "relation"]


def test_label_studio_round_trip_with_relations():
    doc = _ls_doc()
    results = spans_to_results(doc.spans, doc.text, NAMES, doc.relations)
    links = _relation_results(results)
    assert len(links) == len(LINKS)
    assert all(set(r) == {"type", "from_id", "to_id", "direction", "labels"} and r["direction"] == "right" and len(r["labels"]) == 1 for r in links)
    region_text = {r["id"]: r["value"]["text"] for r in results if r["type"] == "labels"}
    drawn = {(region_text[r["from_id"]], r["labels"][0], region_text[r["to_id"]]) for r in links}
    assert {("12 children", "part_of", "40"), ("7 others", "location", "GAO")} <= drawn
    spans, relations, problems = _read(results, doc)
    assert problems == []
    assert spans == sorted(doc.spans)
    assert sorted((r.head, r.tail, r.type) for r in relations) == sorted((r.head, r.tail, r.type) for r in doc.relations)


def test_label_studio_left_direction_is_read_reversed():
    doc = _ls_doc()
    results = spans_to_results(doc.spans, doc.text, NAMES, doc.relations)
    link = next(r for r in _relation_results(results) if r["labels"] == ["part_of"])
    link.update(from_id=link["to_id"], to_id=link["from_id"], direction="left")
    spans, relations, problems = _read(results, doc)
    assert problems == []
    assert sorted(relations) == sorted(doc.relations)
    part_of = next(r for r in relations if r.type == "part_of")
    assert (part_of.head.text_in(doc.text), part_of.tail.text_in(doc.text)) == ("12 children", "40")


def _bad_link(**change):
    # cs1 is the CASUALTY "40", cs3 the ATTRIBUTION "army" (regions are numbered in text order)
    return {"type": "relation", "from_id": "cs1", "to_id": "cs3", "direction": "right", "labels": ["source"], **change}


BAD_LINKS = [
    ("unknown region id", _bad_link(to_id="cs99")),
    ("no labels", {k: v for k, v in _bad_link().items() if k != "labels"}),
    ("empty labels", _bad_link(labels=[])),
    ("two labels", _bad_link(labels=["source", "location"])),
    ("unknown label", _bad_link(labels=["victim"])),
    ("bi direction", _bad_link(direction="bi")),
]


@pytest.mark.parametrize("case, bad", BAD_LINKS, ids=[c[0] for c in BAD_LINKS])
def test_label_studio_bad_relation_is_a_problem(case, bad):
    doc = _ls_doc()
    results = spans_to_results(doc.spans, doc.text, NAMES, doc.relations) + [copy.deepcopy(bad)]
    spans, relations, problems = _read(results, doc)
    assert [p.code for p in problems] == ["ls-relation"], [p.format() for p in problems]
    assert problems[0].path == "task 7" and problems[0].record == doc.id
    assert "'cs1'" in problems[0].value
    # the good links all come back; the bad one is reported, not read as a link
    assert sorted(relations) == sorted(doc.relations)


def test_label_studio_bad_relations_are_each_reported():
    doc = _ls_doc()
    bad = [copy.deepcopy(b) for _, b in BAD_LINKS]
    results = spans_to_results(doc.spans, doc.text, NAMES, doc.relations) + bad
    _, relations, problems = _read(results, doc)
    assert [p.code for p in problems] == ["ls-relation"] * len(bad)
    assert len(relations) == len(LINKS)


def test_label_studio_relation_with_forbidden_labels():
    doc = _ls_doc()
    # cs1 is the CASUALTY "40", cs2 the LOCATION "Gao": a source link must end at an ATTRIBUTION
    results = spans_to_results(doc.spans, doc.text, NAMES, doc.relations) + [_bad_link(to_id="cs2")]
    _, _, problems = _read(results, doc)
    assert [p.code for p in problems] == ["relation-labels"], [p.format() for p in problems]
    assert problems[0].record == doc.id and "'Gao'" in problems[0].message


def test_spans_to_results_needs_relations_tag_for_links():
    xml = labeling_config_xml()
    stripped = re.sub(r"<Relations>.*?</Relations>", "", xml, flags=re.S)
    assert stripped != xml
    names = config_names(stripped)
    assert names.relation_values == ()
    doc = _ls_doc()
    assert _relation_results(spans_to_results(doc.spans, doc.text, names)) == []  # spans alone are fine
    with pytest.raises(CorpusError) as err:
        spans_to_results(doc.spans, doc.text, names, doc.relations)
    assert "<Relations>" in str(err.value)
