"""`conflict-spans audit`: table-driven rule checks over short news sentences, consistency, predictions, the command."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from conflict_spans.corpus.audit import FINDING_TYPES, audit, consistency_findings, prediction_findings, rule_findings, sentence_bounds
from conflict_spans.corpus.markup import document_to_markup, parse_body
from conflict_spans.document import Document
from conflict_spans.problems import CorpusError

from support import spans_from_marks


def doc(markup: str, doc_id: str = "d1") -> Document:
    text, spans = parse_body(markup)
    return Document(doc_id, text, spans, {"conflict": "sudan", "genre": "wire"})


def kinds(markup: str) -> list[str]:
    return [f.kind for f in rule_findings(doc(markup))]


# (rule, markup written for the test, expected rule findings in text order)
RULE_CASES = [
    ("G3 article inside", "[the army]{ACT} shelled [Goma]{LOC}.", ["leading-determiner"]),
    ("G3 possessive inside", "[its spokesman]{ATT} said the road was shut.", ["leading-determiner"]),
    ("G3 counting article in CASUALTY", "A sniper killed [a shepherd]{CAS:killed} near [Kadugli]{LOC}.", []),
    ("G3 article outside", "The [army]{ACT} shelled [Goma]{LOC}.", []),
    ("B3 negated source", "No [group]{ATT} has claimed the attack.", ["negated-mention"]),
    ("B3 negated plain", "No group has claimed the attack.", []),
    ("B4 armed groups plain", "Armed groups control the road to [Beni]{LOC}.", ["group-party-unlabelled"]),
    ("B4 armed groups labelled", "[Armed groups]{ACT} control the road to [Beni]{LOC}.", []),
    ("B4 no armed groups", "No armed groups were seen near [Beni]{LOC}.", []),
    ("B6 deaths after a bare count", "[Medics]{ATT} counted [27]{CAS:killed} deaths.", ["casualty-extent"]),
    ("B6 resultative dead inside", "The raid left [more than 1,200 dead]{CAS:killed}.", ["casualty-extent"]),
    ("B6 resultative dead outside", "The raid left [more than 1,200]{CAS:killed} dead.", []),
    ("W8 all inside a count", "Troops said [all 16 militants]{CAS:killed} were killed.", ["casualty-quantifier"]),
    ("W8 all outside a count", "Troops said all [16 militants]{CAS:killed} were killed.", []),
    ("W8 counting article inside a count", "Gunfire killed [a toddler]{CAS:killed} in [Aleppo]{LOC}.", []),
    ("W7 by-agent unlabelled", "[Nine people]{CAS:killed} were killed by a car bomb in [Baquba]{LOC}.", ["weapon-agent-unlabelled"]),
    ("W7 by-agent labelled", "[Nine people]{CAS:killed} were killed by a [car bomb]{ACT} in [Baquba]{LOC}.", []),
    ("W7 subject labelled", "A [car bomb]{ACT} killed [nine people]{CAS:killed} in [Baquba]{LOC}.", []),
    ("W7 instrument labelled", "[Nine people]{CAS:killed} died in an attack with [drones]{ACT} on [Baquba]{LOC}.", ["weapon-not-agent"]),
    ("W7 instrument plain", "[Nine people]{CAS:killed} died in a car bomb attack in [Baquba]{LOC}.", []),
    ("R18 both inside", "[Qatar]{ATT} urged [both sides]{ACT} to talk.", ["leading-quantifier"]),
    ("R18 one inside a source", "[One resident]{ATT} said the shelling went on all night.", ["leading-quantifier"]),
    ("R18 both outside", "[Qatar]{ATT} urged both [sides]{ACT} to talk.", []),
    ("R18 quantifier pronoun alone is a source", "[Both]{ATT} said they would talk.", []),
    ("R7 direction outside", "Fighting reached central [Bukavu]{LOC} on Sunday.", ["direction-outside"]),
    ("R7 direction inside", "Fighting reached [central Bukavu]{LOC} on Sunday.", []),
    ("R7 capitalised name word is not flagged", "Rebels entered North [Kivu]{LOC}.", []),
    ("L2 extension inside", "Shelling hit the [Zamzam camp area]{LOC}.", ["trailing-extension"]),
    ("L2 outskirts of a place inside", "Troops massed on the [outskirts of Goma]{LOC}.", ["trailing-extension"]),
    ("L2 kind noun inside", "Shelling hit [Zamzam camp]{LOC} and [Mokolo district hospital]{LOC}.", []),
    ("L1 bare direction", "Troops moved into the [north-west]{LOC}.", ["bare-direction"]),
    ("A2 nationality alone", "[Russian]{ACT} drone strikes hit [Odesa]{LOC}.", ["nationality-alone"]),
    ("C1 count without number", "[Civilians]{CAS:killed} died in [Goma]{LOC}.", ["casualty-no-number"]),
    ("C1 vague counts are numbers", "[Dozens]{CAS:injured} were hurt and [several passers-by]{CAS:injured} too.", []),
    ("D2 approximation outside", "The blast killed at least [12 people]{CAS:killed}.", ["casualty-extent"]),
    ("R10 noun outside", "Medics counted [21]{CAS:killed} dead.", ["casualty-extent"]),
    ("R10 verb inside", "Medics said [21 killed]{CAS:killed} in the raid.", ["casualty-extent"]),
    ("R10 elided verb stays outside", "[Ten people]{CAS:killed} were killed and [30]{CAS:injured} wounded.", []),
    ("R10 noun after a bare count", "The toll: [15]{CAS:killed} killed and [36]{CAS:injured} wounded.", ["casualty-extent"]),
    ("R11 pronoun after of inside", "[Twelve people]{CAS:injured} were hurt, [two of them]{CAS:injured} badly.", ["casualty-extent"]),
    ("R11 victim noun after of outside", "[Three]{CAS:killed} of the dead were children.", ["casualty-extent"]),
    ("T no cue for a source", "The [army]{ATT} shelled the town.", ["attribution-no-cue"]),
    ("T cue in sentence", "The [army]{ATT} said it shelled the town.", []),
    ("T first person in a quote with the cue", "“[I]{ATT} promise you the city will hold,” [he]{ATT} said.", []),
    ("T2 sayer labelled as party", "The [army]{ACT} said it had retaken [Babanusa]{LOC}.", ["sayer-not-attribution"]),
    ("T2 place in post-head is not the sayer", "[Residents]{ATT} of [Mbau]{LOC} said the road was closed.", []),
    ("T according to", "According to the [ministry]{ACT}, the road is shut.", ["sayer-not-attribution"]),
    ("R3 withheld saying labelled ACTOR", "The [army]{ACT} did not respond to requests for comment.", ["withheld-saying"]),
    ("R3 withheld saying unlabelled", "The RSF fired. He declined to comment.", ["withheld-saying"]),
    ("R3 withheld saying as ATTRIBUTION", "The [army]{ATT} has not commented.", []),
    ("R19 description before a name", "He called on the [Rwanda-backed M23]{ACT} to withdraw.", ["description-before-name"]),
    ("R19 description outside", "He called on the Rwanda-backed [M23]{ACT} to withdraw.", []),
    ("R19 common-noun head keeps its modifiers", "[Iran-backed militias]{ACT} fired rockets.", []),
    ("A4 title before a name", "[Defence Minister Rustem Umerov]{ATT} said talks would go on.", []),
    ("G9 modifier of an apposition", "[Volker Türk]{ATT}, the [UN]{ACT} rights chief, said the toll was rising.", ["apposition-modifier"]),
    ("G9 possessor in an apposition is a span", "[Col. Ibrahim Sow]{ATT}, the [army]{ACT}’s spokesman, said the convoy was safe.", []),
    ("A3 weapon agent unlabelled", "A drone struck a market in [Taiz]{LOC}.", ["weapon-agent-unlabelled"]),
    ("A3 drone strike is a noun", "A drone strike hit [Taiz]{LOC}.", []),
]


@pytest.mark.parametrize("name, markup, expected", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_findings(name, markup, expected):
    assert kinds(markup) == expected


def test_every_finding_names_its_place_and_context():
    finding = rule_findings(doc("Fighting reached central [Bukavu]{LOC} on Sunday."))[0]
    text = doc("Fighting reached central [Bukavu]{LOC} on Sunday.").text
    assert (finding.doc_id, text[finding.start:finding.end], finding.label) == ("d1", "Bukavu", "LOCATION")
    assert "⟦Bukavu⟧" in finding.context and "R7" in finding.message
    assert set(finding.to_dict()) >= {"kind", "family", "rule", "doc_id", "start", "end", "text", "label", "message", "context"}


@pytest.mark.parametrize("text, n", [
    ("The U.S. military said it struck. Gen. Ali Musa agreed.", 2),
    ("“We will hold. We will not leave,” he said. Rebels fled.", 2),
    ("Headline here\n\nBody sentence one. Body two!", 3),
])
def test_sentence_bounds_keep_abbreviations_and_quotes(text, n):
    bounds = sentence_bounds(text)
    assert len(bounds) == n
    assert bounds[0][0] == 0 and bounds[-1][1] == len(text)


# ---- consistency ---------------------------------------------------------------------------------

def test_same_string_in_the_same_context_with_two_labels():
    docs = [doc("The [army]{ATT} said the town fell.", "a"), doc("Later the [army]{ATT} said more.", "b"),
            doc("Then the [army]{ACT} said nothing new.", "c")]
    found = [f for f in consistency_findings(docs) if f.kind == "label-conflict"]
    assert [(f.doc_id, f.label) for f in found] == [("c", "ACTOR")]  # the minority label is the one listed
    assert found[0].details["counts"] == {"ATTRIBUTION": 2, "ACTOR": 1}
    assert found[0].details["docs"] == {"ATTRIBUTION": ["a", "b"]}


def test_labelled_here_plain_there():
    docs = [doc("[Rebels]{ACT} attacked [Goma]{LOC} at dawn.", "a"), doc("Rebels attacked Goma at dusk.", "b"),
            doc("They left Goma on foot.", "c")]
    found = [(f.doc_id, f.text) for f in consistency_findings(docs) if f.kind == "unlabelled-occurrence"]
    assert found == [("b", "Rebels"), ("b", "Goma")]  # c's "Goma" has other neighbours: not listed


def test_pronouns_and_apposition_heads_are_not_listed_as_plain():
    docs = [doc("“We will go,” [he]{ATT} said. A [spokesman]{ATT} for the [army]{ACT} said no.", "a"),
            doc("[Ali Musa]{ATT}, a spokesman for the [army]{ACT}, said no. He said it.", "b")]
    assert [f for f in consistency_findings(docs) if f.kind == "unlabelled-occurrence"] == []


# ---- predictions -----------------------------------------------------------------------------------

TEXT = "Rebels shelled Kadugli on Sunday, killing 12 civilians, the army said."


GOLD = Document("d1", TEXT, spans_from_marks(TEXT, [("Rebels", "ACTOR", None), ("Kadugli", "LOCATION", None), ("12 civilians", "CASUALTY", "killed"),
                                                   ("army", "ATTRIBUTION", None)]))


def test_prediction_findings_are_ranked_by_score():
    marks = [("Rebels", "ACTOR", None), ("Kadugli", "ACTOR", None), ("Sunday", "LOCATION", None), ("army", "ACTOR", None)]
    pred = Document("d1", TEXT, [replace(s, score=score) for s, score in zip(spans_from_marks(TEXT, marks), (0.9, 0.99, 0.6, 0.7))])
    found, missing = prediction_findings([GOLD], [pred])
    assert missing == []
    assert [(f.kind, f.text, f.score) for f in found] == [
        ("wrong-label", "Kadugli", 0.99), ("wrong-label", "army", 0.7), ("spurious", "Sunday", 0.6), ("missed", "12 civilians", None)]


def test_predictions_for_another_text_are_refused():
    with pytest.raises(CorpusError, match="text"):
        prediction_findings([GOLD], [Document("d1", TEXT + " More.", [])])


def test_audit_counts_every_kind_in_order():
    result = audit([doc("[the army]{ACT} shelled [Goma]{LOC}.")], predictions=[doc("the army shelled [Goma]{LOC}.")])
    assert list(result["counts"]) == list(FINDING_TYPES)
    assert result["counts"]["leading-determiner"] == 1 and result["counts"]["missed"] == 1
    without = audit([doc("The [army]{ACT} shelled [Goma]{LOC}.")])
    assert "missed" not in without["counts"] and sum(without["counts"].values()) == 0


# ---- the command ------------------------------------------------------------------------------------

def write_sources(folder: Path, docs: list[Document]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for d in docs:
        (folder / f"{d.id}.txt").write_text(document_to_markup(d), encoding="utf-8")
    return folder


def test_cli_markdown_json_and_predictions(run_cli, tmp_path):
    src = write_sources(tmp_path / "src", [doc("[the army]{ACT} shelled central [Goma]{LOC}.", "sudan-001")])
    proc = run_cli("audit", src)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# Annotation audit") and "## leading-determiner (1)" in proc.stdout
    assert "leading-determiner" in proc.stderr and "direction-outside" in proc.stderr  # counts per finding type

    out = tmp_path / "audit.json"
    preds = tmp_path / "preds.jsonl"
    gold_text = parse_body("[the army]{ACT} shelled central [Goma]{LOC}.")[0]
    preds.write_text(json.dumps({"id": "sudan-001", "text": gold_text, "spans": [{"start": 0, "end": 8, "label": "ACTOR", "score": 0.8}]}) + "\n", encoding="utf-8")
    proc = run_cli("audit", src, "--predictions", preds, "--format", "json", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "missed" in proc.stdout and str(out) in proc.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["counts"]["leading-determiner"] == 1 and data["counts"]["missed"] == 1
    assert {f["kind"] for f in data["findings"]} >= {"leading-determiner", "direction-outside", "missed"}


def test_cli_exit_code_is_zero_even_with_findings_but_not_for_bad_input(run_cli, tmp_path):
    (tmp_path / "bad.txt").write_text("no header\n", encoding="utf-8")
    proc = run_cli("audit", tmp_path)
    assert proc.returncode == 1 and "header" in proc.stderr
