"""Casualty records (issue 11): sentences, the rule and learned linkers, link and B-cubed scoring, rows and
summaries, `conflict-spans records` and `train-linker`, the hand-written gold figures and the records evaluation."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from conflict_spans.corpus.io import dumps_jsonl, read_documents
from conflict_spans.document import Document, Relation, Span, check_relations
from conflict_spans.evaluation.bootstrap import resample_weights
from conflict_spans.evaluation.records import score_counts, score_records
from conflict_spans.problems import CorpusError
from conflict_spans.records.counts import normalise
from conflict_spans.records.extract import COLUMN_DOCS, COLUMNS, NO_SOURCE, records, summarise, to_csv, to_jsonl
from conflict_spans.records.gold_counts import read_gold_counts
from conflict_spans.records.learned import (CANDIDATE_FEATURES, DEFAULT_WEIGHTS, FEATURES, PAIRWISE, CombinedLinker, LearnedLinker, candidates,
                                            choose_default, load_linker, train)
from conflict_spans.records.linker import Context, RuleLinker, _chained
from conflict_spans.records.scoring import bcubed, bcubed_counts, groups, link_counts, link_scores, prf
from conflict_spans.resources import resource_path
from conflict_spans.schema import RELATION_NAMES
from conflict_spans.sentences import sentence_index, sentences

from conftest import REPO_ROOT
from support import spans_from_marks

DATA = REPO_ROOT / "corpus" / "data"
COUNTS_GOLD = REPO_ROOT / "corpus" / "counts_gold.tsv"


def cas(text: str, status: str = "killed") -> tuple[str, str, str]:
    return (text, "CASUALTY", status)


def att(text: str) -> tuple[str, str]:
    return (text, "ATTRIBUTION")


def loc(text: str) -> tuple[str, str]:
    return (text, "LOCATION")


def act(text: str) -> tuple[str, str]:
    return (text, "ACTOR")


def rule_links(text: str, marks: list) -> set[tuple[str, str, str]]:
    """The rule linker's links on a small document as (head text, type, tail text); every link passes check_relations."""
    doc = Document("doc", text, spans_from_marks(text, marks))
    doc.relations = RuleLinker().link(doc)
    assert check_relations(doc) == [], [p.format() for p in check_relations(doc)]
    return {(r.head.text_in(text), r.type, r.tail.text_in(text)) for r in doc.relations}


def of_type(links: set[tuple[str, str, str]], type_: str) -> set[tuple[str, str]]:
    return {(h, t) for h, ty, t in links if ty == type_}


# ---- 1. sentences ---------------------------------------------------------------------------------

def test_sentences_split_on_end_marks_followed_by_space():
    text = "Twelve people died. Was it an attack? Police said yes! Then quiet.Ended"
    got = [text[s.start:s.end] for s in sentences(text)]
    assert got == ["Twelve people died.", "Was it an attack?", "Police said yes!", "Then quiet.Ended"]


def test_sentences_do_not_split_after_abbreviations():
    text = "Lt. Col. Ahmed said U.S. troops killed 12 people. Gen. Smith denied it."
    got = [text[s.start:s.end] for s in sentences(text)]
    assert got == ["Lt. Col. Ahmed said U.S. troops killed 12 people.", "Gen. Smith denied it."]


def test_every_line_is_a_sentence_and_blank_lines_advance_the_paragraph():
    text = "Gunmen kill 12 in Goma\nGOMA, Aug 3\n\nGunmen killed 12 people. The army said so.\n\n\n\nA later paragraph"
    sents = sentences(text)
    assert [text[s.start:s.end] for s in sents] == ["Gunmen kill 12 in Goma", "GOMA, Aug 3", "Gunmen killed 12 people.", "The army said so.",
                                                    "A later paragraph"]
    assert [s.paragraph for s in sents] == [0, 0, 1, 1, 2]  # several blank lines are one paragraph break
    assert [s.index for s in sents] == list(range(len(sents)))


def test_sentence_index_finds_the_sentence_of_an_offset():
    text = "First one here.  Second one there.\n\nThird."
    sents = sentences(text)
    for surface, expected in (("First", 0), ("here", 0), ("Second", 1), ("there", 1), ("Third", 2)):
        assert sentence_index(sents, text.index(surface)) == expected, surface
    assert sentence_index(sents, text.index("  Second") + 1) == 0  # between two sentences: the one before
    assert sentence_index(sents, text.index("\n\n") + 1) == 1


# ---- 2. the rule linker, one test per rule ---------------------------------------------------------

def test_source_in_the_figures_sentence():
    links = rule_links("Twelve people were killed on Sunday, police said.", [cas("Twelve people"), att("police")])
    assert of_type(links, "source") == {("Twelve people", "police")}


def test_source_for_each_figure_is_its_own():
    text = "Forty people died, police said, while the hospital reported 60 injured."
    links = rule_links(text, [cas("Forty people"), att("police"), att("hospital"), cas("60 injured", "injured")])
    assert of_type(links, "source") == {("Forty people", "police"), ("60 injured", "hospital")}


def test_pronoun_source_brings_its_antecedent():
    text = "The ministry gave a new toll. He said 11 soldiers died."
    links = rule_links(text, [att("ministry"), att("He"), cas("11 soldiers")])
    assert of_type(links, "source") == {("11 soldiers", "He"), ("11 soldiers", "ministry")}


def test_saying_verb_carries_the_previous_sentences_source():
    marks = [att("ministry"), cas("nine people"), cas("five", "injured")]
    carried = rule_links("The ministry said nine people died in the attack. It added that five were wounded.", marks)
    assert of_type(carried, "source") == {("nine people", "ministry"), ("five", "ministry")}
    # no saying verb in the second sentence: the report's own voice, no source
    plain = rule_links("The ministry said nine people died in the attack. Later five were wounded.", marks)
    assert of_type(plain, "source") == {("nine people", "ministry")}


def test_location_in_the_figures_sentence():
    links = rule_links("Three people died in Kharkiv on Monday.", [cas("Three people"), loc("Kharkiv")])
    assert of_type(links, "location") == {("Three people", "Kharkiv")}


def test_location_chain_links_the_most_specific_place():
    links = rule_links("Two soldiers were killed in Bakhmut, in Donetsk region.", [cas("Two soldiers"), loc("Bakhmut"), loc("Donetsk region")])
    assert of_type(links, "location") == {("Two soldiers", "Bakhmut")}
    # the wider place is the nearer one here: still the most specific
    links = rule_links("Shelling in Bakhmut, Donetsk region, killed two soldiers.", [loc("Bakhmut"), loc("Donetsk region"), cas("two soldiers")])
    assert of_type(links, "location") == {("two soldiers", "Bakhmut")}


@pytest.mark.parametrize("text, marks, place", [
    # a possessive: the place after it lies inside the one before
    ("A bomb killed five soldiers in Bamenda’s Mile 90 neighbourhood.", [cas("five soldiers"), loc("Bamenda"), loc("Mile 90")], "Mile 90"),
    ("A drone strike in Finote Selam, a market town in Ethiopia's Amhara region, killed 26 people.",
     [loc("Finote Selam"), loc("Ethiopia"), loc("Amhara"), cas("26 people")], "Finote Selam"),
    # a chain that starts at a bracketed form
    ("Troops fired on marchers crossing the Gawkadal (گاؤکدل) bridge in the centre of Srinagar, killing 35 people.",
     [loc("Gawkadal"), loc("گاؤکدل"), loc("Srinagar"), cas("35 people")], "Gawkadal"),
])
def test_location_chain_reads_possessives_and_bracketed_forms(text, marks, place):
    got = {tail for _, tail in of_type(rule_links(text, marks), "location")}
    assert place in got and not got & {"Bamenda", "Ethiopia", "Amhara", "Srinagar"}


@pytest.mark.parametrize("gap, chained", [
    (", a village in the ", True), (" district of ", True), (" displacement camp west of ", True), (", the capital of ", True),
    (" near ", True), (", about six kilometres south-west of ", True), (") bridge in the centre of ", True),
    # a clause, a list or another party between the places is no chain
    (" attacked the village of ", False), (" and in ", False), (" warn that hospitals in ", False), (" and the neighbouring town of ", False),
    (", aid officials in ", False), (" families in the ", False), (" are sheltering in ", False),
])
def test_what_counts_as_a_chain_between_two_places(gap, chained):
    assert _chained(gap) is chained


def test_a_raid_from_abroad_links_the_villages_it_hit_not_the_attackers_origin():
    """"crossed from [Liberia] attacked the village of [Bomaru]" is no chain, so the walk to the most specific place does not
    end at the origin; "and a border post near [Koindu]" lists a second site."""
    text = "Armed men who crossed from Liberia attacked the village of Bomaru and a border post near Koindu on Saturday, killing 14 people."
    links = rule_links(text, [loc("Liberia"), loc("Bomaru"), loc("Koindu"), cas("14 people")])
    assert of_type(links, "location") == {("14 people", "Bomaru"), ("14 people", "Koindu")}


def test_a_list_goes_on_past_a_bracketed_form():
    text = "Officials said 41 people died in towns including Oleshky (Олешки) and Hola Prystan (Гола Пристань)."
    links = rule_links(text, [att("Officials"), cas("41 people"), loc("Oleshky"), loc("Олешки"), loc("Hola Prystan"), loc("Гола Пристань")])
    assert {tail for _, tail in of_type(links, "location")} == {"Oleshky", "Олешки", "Hola Prystan", "Гола Пристань"}


def test_listed_places_are_all_linked():
    links = rule_links("Gunmen killed 20 villagers in Benue, Plateau and Nasarawa.",
                       [act("Gunmen"), cas("20 villagers"), loc("Benue"), loc("Plateau"), loc("Nasarawa")])
    assert of_type(links, "location") == {("20 villagers", "Benue"), ("20 villagers", "Plateau"), ("20 villagers", "Nasarawa")}


def test_speakers_place_is_not_linked():
    assert of_type(rule_links("Officials in Kyiv said four people died.", [att("Officials"), loc("Kyiv"), cas("four people")]), "location") == set()
    # the same place as the place of the harm is linked
    assert of_type(rule_links("Four people died in Kyiv, officials said.", [cas("Four people"), loc("Kyiv"), att("officials")]),
                   "location") == {("Four people", "Kyiv")}


def test_hospital_is_not_linked():
    assert of_type(rule_links("Six wounded people arrived at Nasser Hospital.", [cas("Six wounded people", "injured"), loc("Nasser Hospital")]),
                   "location") == set()
    assert of_type(rule_links("Six wounded people arrived at Khan Younis.", [cas("Six wounded people", "injured"), loc("Khan Younis")]),
                   "location") == {("Six wounded people", "Khan Younis")}
    both = rule_links("A strike killed six people in Khan Younis, and medics at Nasser Hospital counted them.",
                      [cas("six people"), loc("Khan Younis"), loc("Nasser Hospital")])
    assert of_type(both, "location") == {("six people", "Khan Younis")}


def test_dateline_carries_to_the_datelined_event():
    story = "A bomb went off on Sunday. Police arrived quickly. Seven people died."
    marks = [loc("KABUL"), cas("Seven people")]
    assert of_type(rule_links("KABUL — " + story, marks), "location") == {("Seven people", "KABUL")}
    # K7.1: the event's place carries across paragraphs too
    far = "KABUL — A bomb went off on Sunday.\n\nTraffic was light.\n\nPolice arrived quickly. Seven people died."
    assert of_type(rule_links(far, marks), "location") == {("Seven people", "KABUL")}
    # no dateline mark after the place: not a dateline, and a place outside the telling of an event does not carry
    assert of_type(rule_links("KABUL residents woke early. " + story, marks), "location") == set()


def test_the_events_place_carries_until_the_place_changes():
    text = "Shelling hit Kharkiv overnight. Rescuers worked until dawn. Three people died. Later a drone struck Sumy. Two more were killed."
    links = rule_links(text, [loc("Kharkiv"), cas("Three people"), loc("Sumy"), cas("Two more")])
    assert of_type(links, "location") == {("Three people", "Kharkiv"), ("Two more", "Sumy")}


def test_a_place_named_outside_an_event_does_not_take_over():
    text = "A missile hit a market in Mekele. Foreign nationals are leaving Asmara by road. Doctors said 44 people died."
    links = rule_links(text, [loc("Mekele"), loc("Asmara"), att("Doctors"), cas("44 people")])
    assert of_type(links, "location") == {("44 people", "Mekele")}


def test_a_toll_over_the_whole_war_takes_no_carried_place():
    text = "A strike killed six people in Khan Younis. The war has killed more than 39,000 Palestinians, the ministry said."
    links = rule_links(text, [cas("six people"), loc("Khan Younis"), cas("more than 39,000 Palestinians"), att("ministry")])
    assert of_type(links, "location") == {("six people", "Khan Younis")}


def test_a_headline_figure_takes_the_place_told_after_it():
    text = "12 killed in overnight raid\n\nKHARKIV — A missile struck a school in Kharkiv on Monday."
    links = rule_links(text, [cas("12"), loc("KHARKIV"), loc("Kharkiv")])
    assert of_type(links, "location") == {("12", "KHARKIV")}  # K7.6: the dateline, the first naming after it
    text = "12 killed in overnight raid\n\nA missile struck a school in Kharkiv on Monday."
    assert of_type(rule_links(text, [cas("12"), loc("Kharkiv")]), "location") == {("12", "Kharkiv")}


def test_origins_listed_together_are_not_places_of_harm():
    text = "A car bomb killed 22 cadets at the academy in Bogotá. The dead included cadets from Ecuador and Panama. One more died later."
    links = rule_links(text, [cas("22 cadets"), loc("Bogotá"), loc("Ecuador"), loc("Panama"), cas("One more")])
    assert of_type(links, "location") == {("22 cadets", "Bogotá"), ("One more", "Bogotá")}


@pytest.mark.parametrize("second", [
    # where the wounded were taken or treated (K2.5)
    "Fifteen were taken to the district hospital in Dantewada, where four were in a critical condition.",
    "The six injured were treated at Bijapur district hospital for gunshot wounds.",
    "Two were evacuated by air to Raipur, where four were in a critical condition.",
    # where a speaker was, with the saying verb after the place (K2.4)
    "A police spokesman in Raipur confirmed that four were in a critical condition.",
    "A spokesman reached by telephone in Raipur said four were in a critical condition.",
    # an earlier attack that describes someone
    "Among the dead was a commander responsible for attacks on the Dantewada road.",
])
def test_a_place_the_harm_did_not_happen_in_does_not_take_the_figure(second):
    """The second sentence's figure keeps the place of the attack, carried from the first (K7.1)."""
    text = "Maoist rebels ambushed a patrol near Chintalnar on Monday, killing 12 troopers. " + second
    place = next(p for p in ("Dantewada", "Bijapur", "Raipur") if p in second)
    figure = next(f for f in ("four", "six injured", "a commander") if f in second)
    later = sorted([loc(place), cas(figure)], key=lambda mark: second.index(mark[0]))
    links = rule_links(text, [loc("Chintalnar"), cas("12 troopers"), *later])
    assert (figure, "Chintalnar") in of_type(links, "location") and (figure, place) not in of_type(links, "location")


def test_people_of_a_place_who_speak_are_where_the_harm_was():
    text = "Shelling hit Kharkiv overnight. Residents of Saltivka said three people died."
    links = rule_links(text, [loc("Kharkiv"), loc("Saltivka"), cas("three people")])
    assert of_type(links, "location") == {("three people", "Saltivka")}


def test_a_place_described_by_a_nearby_landmark_is_the_place():
    text = "Gunmen stormed the Hayat Hotel, close to the busy KM4 junction, killing 13 civilians."
    links = rule_links(text, [act("Gunmen"), loc("Hayat Hotel"), loc("KM4 junction"), cas("13 civilians")])
    assert of_type(links, "location") == {("13 civilians", "Hayat Hotel")}


def test_perpetrator_with_a_harm_verb():
    links = rule_links("RSF fighters killed at least 30 villagers.", [act("RSF fighters"), cas("at least 30 villagers")])
    assert of_type(links, "perpetrator") == {("at least 30 villagers", "RSF fighters")}
    # no harm word between them: no link
    assert of_type(rule_links("RSF fighters were seen near at least 30 villagers.", [act("RSF fighters"), cas("at least 30 villagers")]),
                   "perpetrator") == set()


def test_perpetrator_after_the_figure_behind_by():
    links = rule_links("Thirty people died in an attack by al-Shabaab.", [cas("Thirty people"), act("al-Shabaab")])
    assert of_type(links, "perpetrator") == {("Thirty people", "al-Shabaab")}
    assert of_type(rule_links("Thirty people died in an attack near al-Shabaab bases.", [cas("Thirty people"), act("al-Shabaab")]),
                   "perpetrator") == set()


@pytest.mark.parametrize("text, actor, linked", [
    ("A drone killed four people near the market.", "drone", False),
    ("Explosive drones killed four people near the market.", "Explosive drones", False),
    ("On Monday a car packed with explosives killed four people.", "car packed with explosives", False),
    ("A Russian missile killed four people near the market.", "Russian missile", True),
    ("On Monday Eritrean planes killed four people near the market.", "Eritrean planes", True),
    # the party named at the start of the sentence, or by a common noun
    ("Ethiopian jets killed four people near the market.", "Ethiopian jets", True),
    ("PKK roadside bombs killed four people near the market.", "PKK roadside bombs", True),
    ("A junta fighter jet killed four people near the market.", "junta fighter jet", True),
    ("Enemy aircraft killed four people near the market.", "Enemy aircraft", True),
    ("A suicide car bomber killed four people near the market.", "suicide car bomber", True),
    ("Roadside bombs killed four people near the market.", "Roadside bombs", False),
])
def test_a_weapon_is_a_perpetrator_only_when_it_names_the_party(text, actor, linked):
    """K3.4: "a [drone] killed [four]" has no perpetrator link; "[Russian missile]" names the party and has one."""
    links = rule_links(text, [act(actor), cas("four people")])
    assert of_type(links, "perpetrator") == ({("four people", actor)} if linked else set())


def test_the_learned_linker_never_offers_a_weapon_that_names_no_party_as_a_perpetrator():
    text = "A drone killed four people near the market. Ethiopian jets killed five people near the school."
    doc = Document("d", text, spans_from_marks(text, [act("drone"), cas("four people"), act("Ethiopian jets"), cas("five people")]))
    ctx = Context(doc)
    tails = {h.text_in(text): [t.text_in(text) for t in candidates(ctx, h, "perpetrator")] for h in ctx.spans if h.label == "CASUALTY"}
    assert tails == {"four people": [], "five people": ["Ethiopian jets"]}


def test_no_perpetrator_after_of():
    assert of_type(rule_links("Officials said 28 members of the Taliban were killed.", [att("Officials"), cas("28 members"), act("Taliban")]),
                   "perpetrator") == set()
    # "of the" before the actor keeps it out even with a harm word between it and the figure
    assert of_type(rule_links("Relatives of the Taliban fighters said an air strike killed 28 people.", [act("Taliban fighters"), cas("28 people")]),
                   "perpetrator") == set()
    assert of_type(rule_links("Taliban fighters said an air strike killed 28 people.", [act("Taliban fighters"), cas("28 people")]),
                   "perpetrator") == {("28 people", "Taliban fighters")}


def test_part_of_after_including():
    links = rule_links("Forty-five people were killed, including 12 children.", [cas("Forty-five people"), cas("12 children")])
    assert of_type(links, "part_of") == {("12 children", "Forty-five people")}
    # separate groups added together are not part of each other (K4.3)
    assert of_type(rule_links("Three soldiers and four civilians were killed.", [cas("Three soldiers"), cas("four civilians")]), "part_of") == set()


def test_restates_links_to_the_first_mention():
    text = "Thirteen troops were killed in Kabul. The 13 troops were buried on Friday. The 13 dead were honoured."
    links = rule_links(text, [cas("Thirteen troops"), loc("Kabul"), cas("13 troops"), cas("13 dead")])
    # the third mention links to the first, not to the restatement before it
    assert of_type(links, "restates") == {("13 troops", "Thirteen troops"), ("13 dead", "Thirteen troops")}


def test_a_different_count_is_not_a_restatement():
    links = rule_links("Thirteen troops were killed in Kabul. Later the toll rose to 17.", [cas("Thirteen troops"), loc("Kabul"), cas("17")])
    assert of_type(links, "restates") == set()
    # the same count with another status is other people
    other = rule_links("Thirteen troops were killed. Thirteen more were wounded.", [cas("Thirteen troops"), cas("Thirteen more", "injured")])
    assert of_type(other, "restates") == set()


# ---- 3. scoring ----------------------------------------------------------------------------------

def test_link_counts_and_scores_on_a_known_case():
    a, b, c = Span(0, 2, "CASUALTY", "killed"), Span(10, 14, "CASUALTY", "killed"), Span(20, 25, "ATTRIBUTION")
    k1, k2 = Span(30, 35, "LOCATION"), Span(40, 45, "LOCATION")
    actor = Span(50, 55, "ACTOR")
    gold = [Relation(a, c, "source"), Relation(a, k1, "location"), Relation(b, k2, "location"), Relation(b, a, "restates")]
    predicted = [Relation(a, c, "source"),          # tp
                 Relation(a, k2, "location"),       # fp (wrong tail)
                 Relation(b, k2, "location"),       # tp
                 Relation(a, actor, "perpetrator"),  # fp
                 Relation(a, Span(20, 25, "ACTOR"), "source"),  # the tail's offsets with another label: fp
                 Relation(b, a, "part_of")]         # the right spans with another type: fp
    counts = link_counts(gold, predicted)
    assert counts == {"source": [1, 2, 1], "location": [1, 2, 2], "perpetrator": [0, 1, 0], "part_of": [0, 1, 0], "restates": [0, 0, 1]}
    # the same document twice, and one with nothing: sums over documents
    scores = link_scores([counts, counts, link_counts([], [])])
    assert scores["location"]["precision"] == pytest.approx(0.5) and scores["location"]["recall"] == pytest.approx(0.5)
    assert scores["source"]["precision"] == pytest.approx(0.5) and scores["source"]["recall"] == pytest.approx(1.0)
    assert scores["restates"]["recall"] == 0.0 and scores["restates"]["f1"] == 0.0
    assert (scores["micro"]["tp"], scores["micro"]["predicted"], scores["micro"]["gold"]) == (4, 12, 8)
    assert scores["micro"]["f1"] == pytest.approx(2 * (4 / 12) * (4 / 8) / (4 / 12 + 4 / 8))


def test_prf_zero_division():
    assert prf(0, 0, 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "predicted": 0, "gold": 0}
    assert prf(0, 3, 0)["precision"] == 0.0 and prf(0, 3, 0)["f1"] == 0.0
    assert prf(0, 0, 4)["recall"] == 0.0 and prf(0, 0, 4)["f1"] == 0.0
    assert prf(1, 2, 4) == pytest.approx({"precision": 0.5, "recall": 0.25, "f1": 1 / 3, "tp": 1, "predicted": 2, "gold": 4})


def test_groups_and_bcubed_by_hand():
    a, b, c, d = (Span(i * 10, i * 10 + 2, "CASUALTY", "killed") for i in range(4))
    heads = [a, b, c]
    gold = [Relation(b, a, "restates")]        # {a, b}, {c}
    predicted = [Relation(c, b, "restates")]   # {a}, {b, c}
    assert groups(heads, gold) == {(0, 2): 0, (10, 12): 0, (20, 22): 1}
    assert groups(heads, predicted) == {(0, 2): 0, (10, 12): 1, (20, 22): 1}
    # a chain ends at its first mention; other relation types do not group
    assert groups([a, b, c, d], [Relation(d, c, "restates"), Relation(c, a, "restates"), Relation(b, a, "part_of")]) == \
        {(0, 2): 0, (10, 12): 1, (20, 22): 0, (30, 32): 0}
    # precision: a 1, b 1/2, c 1/2; recall: a 1/2, b 1/2, c 1
    precision, recall, n = bcubed_counts(heads, gold, predicted)
    assert (precision, recall, n) == pytest.approx((2.0, 2.0, 3))
    assert bcubed([(precision, recall, n)]) == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "mentions": 3})
    assert bcubed_counts(heads, gold, gold) == pytest.approx((3.0, 3.0, 3))
    assert bcubed([]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "mentions": 0}


# ---- 4. the learned linker ------------------------------------------------------------------------

TRAIN_TEXTS = [
    ("t1", "Twelve people were killed in Goma on Sunday, police said.", [cas("Twelve people"), loc("Goma"), att("police")]),
    ("t2", "RSF fighters killed at least 30 villagers in Tawila, including 12 children, medics said.",
     [act("RSF fighters"), cas("at least 30 villagers"), loc("Tawila"), cas("12 children"), att("medics")]),
    ("t3", "The ministry said nine people died in Kharkiv. It added that five were wounded.",
     [att("ministry"), cas("nine people"), loc("Kharkiv"), cas("five", "injured")]),
    ("t4", "Thirteen troops were killed in Kabul. The 13 troops were buried on Friday, officials said.",
     [cas("Thirteen troops"), loc("Kabul"), cas("13 troops"), att("officials")]),
    ("t5", "Thirty people died in an attack by al-Shabaab in Mogadishu, the army said.",
     [cas("Thirty people"), act("al-Shabaab"), loc("Mogadishu"), att("army")]),
    ("t6", "Officials in Kyiv said four people died in Odesa.", [att("Officials"), loc("Kyiv"), cas("four people"), loc("Odesa")]),
]


def linked_documents(texts=TRAIN_TEXTS) -> list[Document]:
    """Small documents whose gold links are the rule linker's (each passes check_relations)."""
    docs = []
    for doc_id, text, marks in texts:
        doc = Document(doc_id, text, spans_from_marks(text, marks))
        doc.relations = RuleLinker().link(doc)
        assert doc.relations and check_relations(doc) == []
        docs.append(doc)
    return docs


def write_weights(path: Path, linker: LearnedLinker, **changes) -> Path:
    raw = json.loads(linker.to_json())
    raw.update(changes)
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_linker() -> LearnedLinker:
    return train(linked_documents())


def test_train_is_deterministic(small_linker):
    again = train(linked_documents())
    assert again.weights == small_linker.weights and again.places == small_linker.places
    assert again.info == small_linker.info
    assert small_linker.info["documents"] == len(TRAIN_TEXTS)
    # it learned something: the gold links are the rule linker's, so agreeing with the rule weighs for a link
    assert small_linker.weights["source"][FEATURES.index("rule")] > 0
    assert small_linker.places.weights[CANDIDATE_FEATURES.index("rule")] > 0
    assert set(small_linker.weights) == set(PAIRWISE) and "location" not in PAIRWISE  # places are chosen by the ranker


def test_to_json_from_file_round_trip(small_linker, tmp_path):
    path = tmp_path / "w.json"
    path.write_text(small_linker.to_json(), encoding="utf-8")
    loaded = LearnedLinker.from_file(path)
    assert loaded.weights == small_linker.weights and loaded.places == small_linker.places and loaded.info == small_linker.info
    doc = linked_documents()[1]
    assert loaded.link(doc) == small_linker.link(doc)


@pytest.mark.parametrize("change", [
    {"features": list(FEATURES[:-1])},
    {"place_features": list(CANDIDATE_FEATURES[:-1])},
    {"none_features": ["bias"]},
    {"weights": {"source": [0.0] * len(FEATURES)}},
], ids=["pair-features", "place-features", "none-features", "types"])
def test_from_file_refuses_other_features(small_linker, tmp_path, change):
    path = write_weights(tmp_path / "old.json", small_linker, **change)
    with pytest.raises(ValueError, match="train-linker") as exc:
        LearnedLinker.from_file(path)
    assert str(path) in str(exc.value)


def test_load_linker_rule_and_auto(small_linker, tmp_path):
    assert isinstance(load_linker("rule"), RuleLinker)
    learned_default = write_weights(tmp_path / "learned.json", small_linker, info={**small_linker.info, "default": "learned"})
    rule_default = write_weights(tmp_path / "rule.json", small_linker, info={**small_linker.info, "default": "rule"})
    assert isinstance(load_linker("auto", learned_default), LearnedLinker)
    assert isinstance(load_linker("auto", rule_default), RuleLinker)
    assert isinstance(load_linker("learned", rule_default), LearnedLinker)
    per_type = {t: ("learned" if t == "source" else "rule") for t in RELATION_NAMES}
    combined_default = write_weights(tmp_path / "combined.json", small_linker,
                                     info={**small_linker.info, "default": "combined", "default_per_type": per_type})
    combined = load_linker("auto", combined_default)
    assert isinstance(combined, CombinedLinker) and combined.per_type == per_type


def test_combined_linker_takes_each_type_from_its_linker(small_linker):
    doc = linked_documents()[0]
    per_type = {t: ("learned" if t in ("source", "perpetrator") else "rule") for t in RELATION_NAMES}
    links = CombinedLinker(small_linker, per_type).link(doc)
    assert {r for r in links if r.type in ("source", "perpetrator")} == {r for r in small_linker.link(doc) if r.type in ("source", "perpetrator")}
    assert {r for r in links if r.type not in ("source", "perpetrator")} == {r for r in RuleLinker().link(doc) if r.type not in ("source", "perpetrator")}


def test_choose_default_is_per_type(small_linker):
    validation = linked_documents()
    info = choose_default(small_linker, validation)
    f1 = info["validation_f1"]
    for t in RELATION_NAMES:  # learned only where it scores higher
        assert info["default_per_type"][t] == ("learned" if f1["learned"][t] > f1["rule"][t] else "rule")
    names = set(info["default_per_type"].values())
    assert info["default"] == (names.pop() if len(names) == 1 else "combined")


def test_auto_is_the_shipped_default():
    shipped = LearnedLinker.from_file()
    assert shipped.info["default"] in ("rule", "learned", "combined")
    assert load_linker("auto").name == shipped.info["default"]


def test_shipped_weights_are_reproducible():
    """resources/linker.json is what train-linker makes from the bundled splits now: retrain when the linker or the links change."""
    shipped = json.loads(resource_path(DEFAULT_WEIGHTS).read_text(encoding="utf-8"))
    linker = train(read_documents(DATA / "train.jsonl"))
    linker.info.update(choose_default(linker, read_documents(DATA / "validation.jsonl")))
    assert shipped["features"] == list(FEATURES) and shipped["place_features"] == list(CANDIDATE_FEATURES)
    assert set(shipped["weights"]) == set(linker.weights) == set(PAIRWISE)
    for type_, weights in linker.weights.items():
        assert weights == pytest.approx(shipped["weights"][type_], abs=1e-6), f"{type_}: rerun `conflict-spans train-linker`"
    assert linker.places.weights == pytest.approx(shipped["places"]["weights"], abs=1e-6), "places: rerun `conflict-spans train-linker`"
    assert linker.places.none_weights == pytest.approx(shipped["places"]["none_weights"], abs=1e-6), "places: rerun `conflict-spans train-linker`"
    assert linker.info["default"] == shipped["info"]["default"]
    assert linker.info["default_per_type"] == shipped["info"]["default_per_type"]
    assert linker.info["thresholds"] == shipped["info"]["thresholds"]
    assert linker.info["pairs"] == shipped["info"]["pairs"]
    assert linker.info["validation_micro_f1"] == pytest.approx(shipped["info"]["validation_micro_f1"], abs=1e-6)


# ---- 5. records and summaries ----------------------------------------------------------------------

RECORDS_TEXT = ("Gunmen kill 12 in Goma\n\n"
                "GOMA — Gunmen killed at least 12 people, including three children, in Goma on Sunday, the army and police said. "
                "He said four people were wounded.")
RECORDS_MARKS = [act("Gunmen"), cas("12"), loc("Goma"), loc("GOMA"), act("Gunmen"), cas("at least 12 people"), cas("three children"), loc("Goma"),
                 att("army"), att("police"), att("He"), cas("four people", "injured")]


def records_document() -> Document:
    text = RECORDS_TEXT
    spans = spans_from_marks(text, RECORDS_MARKS)
    s = sorted(spans)
    doc = Document("goma", text, list(reversed(spans)))  # stored out of order: rows still come in text order
    doc.relations = [Relation(s[1], s[2], "location"), Relation(s[1], s[0], "perpetrator"),
                     Relation(s[5], s[1], "restates"), Relation(s[5], s[8], "source"), Relation(s[5], s[9], "source"),
                     Relation(s[5], s[7], "location"), Relation(s[5], s[4], "perpetrator"),
                     Relation(s[6], s[1], "part_of"), Relation(s[6], s[8], "source"), Relation(s[6], s[9], "source"),
                     Relation(s[11], s[10], "source"), Relation(s[11], s[8], "source")]
    assert check_relations(doc) == []
    return doc


def test_records_one_row_per_casualty_in_text_order():
    doc = records_document()
    s = sorted(doc.spans)
    rows = records(doc)
    casualties = [i for i, span in enumerate(s) if span.label == "CASUALTY"]
    assert casualties == [1, 5, 6, 11]
    assert [r.figure for r in rows] == [f"goma#{i}" for i in casualties]
    assert [(r.start, r.end, r.text, r.status) for r in rows] == [(s[i].start, s[i].end, s[i].text_in(doc.text), s[i].status) for i in casualties]
    for row in rows:
        count = normalise(row.text)
        assert (row.low, row.best, row.high, row.qualifier, row.point) == (count.low, count.best, count.high, count.qualifier, count.point)
        assert row.doc_id == "goma"
    assert (rows[1].low, rows[1].best, rows[1].high, rows[1].qualifier) == (12, 12, None, "at-least")
    assert rows[0].sentence == "Gunmen kill 12 in Goma"
    assert rows[3].sentence == "He said four people were wounded."


def test_records_join_linked_spans_and_ids():
    doc = records_document()
    s = sorted(doc.spans)
    head, body, children, wounded = records(doc)
    assert (head.location, head.location_offsets) == ("Goma", f"{s[2].start}-{s[2].end}")
    assert (head.perpetrator, head.perpetrator_offsets) == ("Gunmen", f"{s[0].start}-{s[0].end}")
    assert head.source == "" and head.source_offsets == ""
    assert body.source == "army | police"
    assert body.source_offsets == f"{s[8].start}-{s[8].end} | {s[9].start}-{s[9].end}"
    assert (body.location_offsets, body.perpetrator_offsets) == (f"{s[7].start}-{s[7].end}", f"{s[4].start}-{s[4].end}")
    assert wounded.source == "army | He"  # in text order, whatever the order of the relations
    assert [r.part_of for r in (head, body, children, wounded)] == ["", "", "goma#1", ""]
    assert [r.group for r in (head, body, children, wounded)] == ["goma#1", "goma#1", "goma#6", "goma#11"]
    # other relations than the document's own
    bare = records(doc, [])
    assert [r.group for r in bare] == [r.figure for r in bare] and all(r.source == r.location == r.part_of == "" for r in bare)


def test_summarise_groups_restatements_and_takes_the_largest_per_source():
    text = ("The ministry said 40 people were killed. He said 10 were injured. He and the ministry later said 60 had died. "
            "Police said 55 people were killed. The 40 dead were buried.")
    marks = [att("ministry"), cas("40 people"), att("He"), cas("10", "injured"), att("He"), att("ministry"), cas("60"),
             att("Police"), cas("55 people"), cas("The 40 dead")]
    spans = spans_from_marks(text, marks)
    s = sorted(spans)
    doc = Document("sum", text, spans, relations=[
        Relation(s[1], s[0], "source"), Relation(s[3], s[2], "source"), Relation(s[6], s[4], "source"), Relation(s[6], s[5], "source"),
        Relation(s[8], s[7], "source"), Relation(s[9], s[1], "restates")])
    assert check_relations(doc) == []
    summary = summarise("sum", records(doc))
    assert (summary["doc_id"], summary["mentions"], summary["figures"]) == ("sum", 5, 4)
    largest = {item["source"]: (item["killed"], item["injured"]) for item in summary["largest_by_source"]}
    # "He" counts for the figure only he gives, not for the one the ministry gives as well
    assert largest == {"ministry": (60, None), "He": (None, 10), "Police": (55, None), NO_SOURCE: (40, None)}


def test_to_csv_has_the_columns_and_every_documented_column():
    rows = records(records_document())
    text = to_csv(rows)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(rows)
    assert parsed[1]["source"] == "army | police" and parsed[1]["high"] == "" and parsed[1]["best"] == "12"
    assert parsed[0]["sentence"] == rows[0].sentence
    assert set(COLUMN_DOCS) <= set(COLUMNS), "a documented column that the records lack"
    assert set(COLUMNS) <= set(COLUMN_DOCS), "a column without its COLUMN_DOCS line"
    assert [json.loads(line) for line in to_jsonl(rows).splitlines()] == [r.to_dict() for r in rows]


def test_records_carry_each_links_score_in_the_order_of_its_spans():
    doc = records_document()
    s = sorted(doc.spans)
    # the two sources of figure 5 given out of text order, with scores; its location without one
    links = [Relation(s[5], s[9], "source", 0.25), Relation(s[5], s[8], "source", 0.9126), Relation(s[5], s[7], "location"),
             Relation(s[1], s[2], "location", 0.5), Relation(s[6], s[1], "part_of", 0.8)]
    rows = {r.figure: r for r in records(doc, links)}
    row = rows["goma#5"]
    assert row.source.split(" | ") == [s[8].text_in(doc.text), s[9].text_in(doc.text)]
    assert row.source_score == "0.913 | 0.250", "the scores follow the texts, in text order"
    assert row.location == s[7].text_in(doc.text) and row.location_score == "", "a link without a score leaves the column empty"
    assert rows["goma#1"].location_score == "0.500" and rows["goma#1"].perpetrator_score == ""
    assert (rows["goma#6"].part_of, rows["goma#6"].part_of_score) == ("goma#1", "0.800") and rows["goma#5"].part_of_score == ""
    # gold links carry no score: every score column is empty
    assert all(r.source_score == r.location_score == r.perpetrator_score == r.part_of_score == "" for r in records(doc))


# ---- 6. conflict-spans records -------------------------------------------------------------------

PLAIN_TEXT = "Twelve people were killed on Sunday, police said."


def plain_document() -> Document:
    return Document("plain", PLAIN_TEXT, spans_from_marks(PLAIN_TEXT, [cas("Twelve people"), att("police")]))


def write_docs(path: Path, docs: list[Document]) -> Path:
    path.write_text(dumps_jsonl(docs), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_cli_records_with_input_links_writes_csv_and_jsonl(run_cli, tmp_path):
    docs = [records_document(), plain_document()]
    source = write_docs(tmp_path / "gold.jsonl", docs)
    out_csv, out_jsonl = tmp_path / "rows.csv", tmp_path / "rows.jsonl"
    for out in (out_csv, out_jsonl):
        result = run_cli("records", source, "--linker", "input", "-o", out)
        assert result.returncode == 0, result.stderr
        assert "links from the input" in result.stderr
    expected = records(docs[0]) + records(docs[1])
    assert len(expected) == sum(1 for d in docs for s in d.spans if s.label == "CASUALTY")
    assert out_csv.read_text(encoding="utf-8") == to_csv(expected)
    assert [json.loads(line) for line in out_jsonl.read_text(encoding="utf-8").splitlines()] == [r.to_dict() for r in expected]
    assert read_csv(out_csv)[1]["source"] == "army | police"
    assert read_csv(out_csv)[4]["source"] == ""  # the plain document has no relations: with --linker input, no links


def test_cli_records_summary(run_cli, tmp_path):
    source = write_docs(tmp_path / "gold.jsonl", [records_document()])
    out, summary = tmp_path / "rows.csv", tmp_path / "summary.csv"
    result = run_cli("records", source, "--linker", "input", "-o", out, "--summary", summary)
    assert result.returncode == 0, result.stderr
    lines = read_csv(summary)
    assert list(lines[0]) == ["doc_id", "mentions", "figures", "source", "largest_killed", "largest_injured"]
    by_source = {line["source"]: line for line in lines}
    assert set(by_source) == {"army", "police", NO_SOURCE}
    assert all((line["doc_id"], line["mentions"], line["figures"]) == ("goma", "4", "3") for line in lines)
    assert (by_source["army"]["largest_killed"], by_source["army"]["largest_injured"]) == ("12", "4")
    assert (by_source[NO_SOURCE]["largest_killed"], by_source[NO_SOURCE]["largest_injured"]) == ("12", "")


def test_cli_records_default_linker_links_spans_without_relations(run_cli, tmp_path):
    source = write_docs(tmp_path / "spans.jsonl", [plain_document()])
    out = tmp_path / "rows.csv"
    result = run_cli("records", source, "-o", out)
    assert result.returncode == 0, result.stderr
    rows = read_csv(out)
    assert len(rows) == 1 and rows[0]["text"] == "Twelve people" and rows[0]["source"] == "police"
    assert f"{load_linker('auto').name} linker" in result.stderr


def assert_refused(result, code: str, *names: str) -> None:
    assert result.returncode == 1, result.stderr
    assert f"[{code}]" in result.stderr, result.stderr
    for name in names:
        assert name in result.stderr, (name, result.stderr)
    assert "nothing was written" in result.stderr


def bad_weights(tmp_path: Path, kind: str) -> Path:
    """A --weights file of each bad kind: missing, not JSON, JSON of another shape, and weights of other features."""
    path = tmp_path / f"{kind}.json"
    if kind == "not-json":
        path.write_text("{ not json", encoding="utf-8")
    elif kind == "not-weights":
        path.write_text(json.dumps([1, 2, 3]), encoding="utf-8")
    elif kind == "other-features":
        raw = json.loads(resource_path(DEFAULT_WEIGHTS).read_text(encoding="utf-8"))
        raw["place_features"] = raw["place_features"][:-1]
        path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["missing", "not-json", "not-weights", "other-features"])
def test_cli_records_refuses_bad_weights_before_writing(run_cli, tmp_path, kind):
    source = write_docs(tmp_path / "spans.jsonl", [plain_document()])
    weights, out = bad_weights(tmp_path, kind), tmp_path / "rows.csv"
    assert_refused(run_cli("records", source, "--weights", weights, "-o", out), "linker-weights", str(weights), "--weights")
    assert not out.exists()


@pytest.mark.parametrize("kind", ["missing", "other-features"])
def test_cli_evaluate_refuses_bad_linker_weights_before_scoring(run_cli, tmp_path, kind):
    weights, out = bad_weights(tmp_path, kind), tmp_path / "results"
    result = run_cli("evaluate", "--baselines", "none", "--no-re3d", "--linker-weights", weights, "--out", out)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "[linker-weights]" in result.stderr and str(weights) in result.stderr and "--linker-weights" in result.stderr
    assert "Fix:" in result.stderr and not out.exists()


def test_cli_records_refuses_an_unknown_output_suffix(run_cli, tmp_path):
    source = write_docs(tmp_path / "gold.jsonl", [records_document()])
    out = tmp_path / "rows.txt"
    assert_refused(run_cli("records", source, "--linker", "input", "-o", out), "output", str(out), ".txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gold.jsonl"]


def test_cli_records_refuses_output_equal_to_input(run_cli, tmp_path):
    source = write_docs(tmp_path / "gold.jsonl", [records_document()])
    before = source.read_bytes()
    assert_refused(run_cli("records", source, "--linker", "input", "-o", source), "output-path", str(source))
    assert source.read_bytes() == before


def test_cli_records_refuses_summary_equal_to_output(run_cli, tmp_path):
    source = write_docs(tmp_path / "gold.jsonl", [records_document()])
    out = tmp_path / "rows.csv"
    assert_refused(run_cli("records", source, "--linker", "input", "-o", out, "--summary", out), "output", str(out), "--summary")
    assert not out.exists()


def test_cli_records_refuses_input_links_with_a_model_before_loading(run_cli, tmp_path):
    missing_input, missing_model = tmp_path / "absent.jsonl", tmp_path / "no-model"
    out = tmp_path / "rows.csv"
    result = run_cli("records", missing_input, "--linker", "input", "--model", missing_model, "-o", out)
    assert_refused(result, "option", "--linker input")
    assert "[path]" not in result.stderr  # refused before the input (or the model) was read
    assert not out.exists()


def test_cli_records_missing_input(run_cli, tmp_path):
    missing, out = tmp_path / "absent.jsonl", tmp_path / "rows.csv"
    assert_refused(run_cli("records", missing, "-o", out), "path", str(missing))
    assert not out.exists()


# ---- 7. conflict-spans train-linker -----------------------------------------------------------------

def test_cli_train_linker_writes_weights_and_prints_the_comparison(run_cli, tmp_path):
    docs = linked_documents()
    train_file = write_docs(tmp_path / "train.jsonl", docs[:4])
    validation = linked_documents(TRAIN_TEXTS[4:])
    validation_file = write_docs(tmp_path / "validation.jsonl", validation)
    out = tmp_path / "w.json"
    result = run_cli("train-linker", "--train", train_file, "--validation", validation_file, "-o", out)
    assert result.returncode == 0, result.stderr
    weights = LearnedLinker.from_file(out)
    assert set(weights.weights) == set(PAIRWISE) and all(len(w) == len(FEATURES) for w in weights.weights.values())
    assert len(weights.places.weights) == len(CANDIDATE_FEATURES)
    assert weights.info["documents"] == 4 and weights.info["validation_documents"] == len(validation)
    rule_f1 = link_scores([link_counts(d.relations, RuleLinker().link(d)) for d in validation])["micro"]["f1"]
    assert rule_f1 == pytest.approx(1.0)  # the gold links are the rule linker's
    assert f"rule {rule_f1:.4f}, learned {weights.info['validation_micro_f1']['learned']:.4f}" in result.stdout
    assert f"-> default {weights.info['default']} (" in result.stdout
    assert f"-> {out}" in result.stdout


def test_cli_train_linker_refuses_training_without_links(run_cli, tmp_path):
    train_file = write_docs(tmp_path / "train.jsonl", [plain_document()])
    validation_file = write_docs(tmp_path / "validation.jsonl", linked_documents(TRAIN_TEXTS[:1]))
    out = tmp_path / "w.json"
    assert_refused(run_cli("train-linker", "--train", train_file, "--validation", validation_file, "-o", out), "no-links", str(train_file))
    assert not out.exists()


# ---- 8. the hand-written gold figures ---------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_documents() -> list[Document]:
    return [d for split in ("train", "validation", "test") for d in read_documents(DATA / f"{split}.jsonl")]


def test_bundled_gold_counts_match_the_corpus(corpus_documents):
    gold = read_gold_counts(COUNTS_GOLD, corpus_documents)
    rows = list(csv.DictReader(COUNTS_GOLD.open(encoding="utf-8", newline=""), delimiter="\t"))
    assert len(gold) == len(rows) > 0, "two rows name the same span"
    by_id = {d.id: d for d in corpus_documents}
    for (doc_id, start, end), figure in gold.items():
        span = next(s for s in by_id[doc_id].spans if (s.start, s.end) == (start, end))
        assert span.label == "CASUALTY"
        figures = [v for v in (figure.low, figure.best, figure.high) if v is not None]
        assert figures == sorted(figures), (doc_id, start, end)


GOLD_HEADER = "id\tstart\tend\tstatus\tspan\tlow\tbest\thigh\n"


def gold_row(doc: Document, surface: str, low="", best="", high="") -> str:
    start = doc.text.index(surface)
    span = next(s for s in doc.spans if s.start == start)
    return f"{doc.id}\t{start}\t{start + len(surface)}\t{span.status or ''}\t{surface}\t{low}\t{best}\t{high}\n"


def gold_file(tmp_path: Path, *rows: str, header: str = GOLD_HEADER) -> Path:
    path = tmp_path / "counts_gold.tsv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def problem_of(path: Path, docs: list[Document] | None) -> object:
    with pytest.raises(CorpusError) as exc:
        read_gold_counts(path, docs)
    assert len(exc.value.problems) == 1, exc.value
    problem = exc.value.problems[0]
    assert problem.path == str(path)
    return problem


def test_gold_counts_wrong_header(tmp_path):
    doc = plain_document()
    path = gold_file(tmp_path, gold_row(doc, "Twelve people", 12, 12, 12), header=GOLD_HEADER.replace("best", "value"))
    problem = problem_of(path, [doc])
    assert (problem.code, problem.line) == ("columns", 1)
    assert "value" in problem.value


def test_gold_counts_non_integer_figure(tmp_path):
    doc = records_document()
    path = gold_file(tmp_path, gold_row(doc, "at least 12 people", 12, 12), gold_row(doc, "three children", 3, "three", 3))
    problem = problem_of(path, [doc])
    assert (problem.code, problem.line, problem.record) == ("value", 3, "goma")
    assert "three" in problem.value


def test_gold_counts_low_above_best(tmp_path):
    doc = records_document()
    path = gold_file(tmp_path, gold_row(doc, "at least 12 people", 12, 12), gold_row(doc, "three children", 4, 3, 3))
    problem = problem_of(path, None)
    assert (problem.code, problem.line, problem.record) == ("value", 3, "goma")
    assert "4" in problem.value


@pytest.mark.parametrize("case", ["moved", "text", "not-casualty", "unknown-document"])
def test_gold_counts_row_naming_no_span(tmp_path, case):
    doc = records_document()
    good = gold_row(doc, "at least 12 people", 12, 12)
    bad = {"moved": gold_row(doc, "three children", 3, 3, 3).replace(f"\t{doc.text.index('three children')}\t",
                                                                       f"\t{doc.text.index('three children') + 1}\t", 1),
           "text": gold_row(doc, "three children", 3, 3, 3).replace("\tthree children\t", "\tthree kids\t"),
           "not-casualty": gold_row(doc, "police", 3, 3, 3),
           "unknown-document": gold_row(doc, "three children", 3, 3, 3).replace("goma\t", "elsewhere\t", 1)}[case]
    path = gold_file(tmp_path, good, bad)
    problem = problem_of(path, [doc])
    assert (problem.code, problem.line) == ("gold-count", 3)
    assert problem.record == ("elsewhere" if case == "unknown-document" else "goma")


# ---- 9. the records evaluation ----------------------------------------------------------------------

class GoldLinker:
    """A perfect linker: the document's own relations."""
    name = "gold"

    def link(self, doc: Document) -> list[Relation]:
        return list(doc.relations)


class NoLinker:
    name = "none"

    def link(self, doc: Document) -> list[Relation]:
        return []


def test_score_records_perfect_linker(tmp_path):
    docs = [records_document(), linked_documents(TRAIN_TEXTS[3:4])[0]]
    result = score_records(docs, {"gold": GoldLinker(), "none": NoLinker()}, n_resamples=50, seed=3)
    present = {r.type for d in docs for r in d.relations}
    assert present == {"source", "location", "perpetrator", "part_of", "restates"}
    assert result["gold_links"] == {t: sum(1 for d in docs for r in d.relations if r.type == t) for t in RELATION_NAMES}
    perfect, empty = result["linkers"]["gold"], result["linkers"]["none"]
    for type_ in (*present, "micro"):
        assert perfect["gold_spans"][type_]["f1"] == 1.0, type_
        assert empty["gold_spans"][type_]["f1"] == 0.0 and empty["gold_spans"][type_]["recall"] == 0.0, type_
    assert perfect["groups_bcubed"]["f1"] == 1.0
    # no links at all: every mention its own group, full precision, recall below 1 (the restated figures)
    assert empty["groups_bcubed"]["precision"] == 1.0 and empty["groups_bcubed"]["recall"] < 1.0
    assert perfect["groups_bcubed"]["mentions"] == sum(1 for d in docs for s in d.spans if s.label == "CASUALTY")
    for scores in (perfect, empty):
        for interval in [scores["gold_spans"][t]["f1_interval"] for t in (*RELATION_NAMES, "micro")] + [scores["groups_bcubed"]["f1_interval"]]:
            assert interval["low"] <= interval["point"] <= interval["high"], interval


def test_score_records_intervals_bracket_an_imperfect_linker():
    docs = linked_documents()
    # drop the source links of half the documents: a figure between 0 and 1 with a real interval
    damaged = {d.id: [r for r in d.relations if not (r.type == "source" and i % 2)] for i, d in enumerate(docs)}

    class Damaged:
        name = "damaged"

        def link(self, doc: Document) -> list[Relation]:
            return damaged[doc.id]

    result = score_records(docs, {"damaged": Damaged()}, n_resamples=200, seed=0)
    source = result["linkers"]["damaged"]["gold_spans"]["source"]
    assert 0 < source["recall"] < 1 and source["precision"] == 1.0
    interval = source["f1_interval"]
    assert interval["low"] <= interval["point"] <= interval["high"] and interval["low"] < interval["high"]


def test_score_records_links_by_score():
    docs = [records_document()]
    s = sorted(docs[0].spans)
    gold_sources = [r for r in docs[0].relations if r.type == "source"]
    # every gold source link, scored 0.95 or 0.6 in turn, and two wrong ones at 0.8 and 0.3; locations unscored
    links = [Relation(r.head, r.tail, r.type, 0.95 if i % 2 == 0 else 0.6) for i, r in enumerate(gold_sources)]
    links += [Relation(s[1], s[8], "source", 0.8), Relation(s[11], s[9], "source", 0.3)]
    links += [r for r in docs[0].relations if r.type == "location"]

    class Scored:
        name = "scored"

        def link(self, doc: Document) -> list[Relation]:
            return links

    by_score = score_records(docs, {"scored": Scored(), "none": NoLinker()}, n_resamples=20, seed=0)["linkers"]
    assert "by_score" not in by_score["none"], "a linker that gives no scores has no table"
    table = by_score["scored"]["by_score"]
    assert set(table) == {"source"}, "types whose links carry no score are left out"
    n = len(gold_sources)
    assert table["source"]["gold"] == n and table["source"]["scored_links"] == n + 2
    cuts = {c["min_score"]: c for c in table["source"]["cuts"]}
    assert (cuts[0.0]["links"], cuts[0.0]["right"]) == (n + 2, n)
    assert (cuts[0.5]["links"], cuts[0.5]["right"]) == (n + 1, n), "the wrong link at 0.3 falls below 0.5"
    assert (cuts[0.7]["links"], cuts[0.7]["right"]) == ((n + 1) // 2 + 1, (n + 1) // 2)
    assert cuts[0.9]["precision"] == 1.0 and cuts[0.9]["recall"] == pytest.approx(((n + 1) // 2) / n)
    assert cuts[0.5]["share"] == pytest.approx((n + 1) / (n + 2))


def test_report_shows_the_default_linkers_links_by_score():
    from conflict_spans.evaluation.report import records_section

    docs = [records_document()]
    scored = [Relation(r.head, r.tail, r.type, 0.75) for r in docs[0].relations]

    class Scored:
        name = "scored"

        def link(self, doc: Document) -> list[Relation]:
            return scored

    result = score_records(docs, {"gold": GoldLinker(), "scored": Scored()}, default_linker="scored", n_resamples=20, seed=0)
    text = "\n".join(records_section(result, "test"))
    assert "Links by score, default linker (scored)" in text
    n = sum(1 for r in docs[0].relations if r.type == "source")
    assert f"| source | 0.7 | {n} | 100.0 | 100.0 | 100.0 |" in text
    assert "| source | 0.9 | 0 | 0.0 | — | 0.0 |" in text
    result["default_linker"] = "gold"  # unscored links: no table
    assert "Links by score" not in "\n".join(records_section(result, "test"))


def test_score_counts_on_a_tiny_gold_file(tmp_path):
    docs = [records_document(), plain_document()]
    path = gold_file(tmp_path,
                     gold_row(docs[0], "12", 12, 12, 12),
                     gold_row(docs[0], "at least 12 people", 12, 12, ""),
                     gold_row(docs[0], "three children", 3, 4, 4),       # a gold figure the normaliser does not give
                     gold_row(docs[1], "Twelve people", 12, 12, 12))
    result = score_counts(docs, path, resample_weights(len(docs), 50, 0))
    assert result["spans"] == 4
    assert result["best_exact"]["correct"] == 3 and result["best_exact"]["accuracy"] == pytest.approx(0.75)
    assert result["range_agreement"]["correct"] == 3
    assert [m["text"] for m in result["misses"]] == ["three children"]
    interval = result["best_exact"]["interval"]
    assert interval["low"] <= interval["point"] <= interval["high"]
    assert np.isclose(interval["point"], 0.75)
