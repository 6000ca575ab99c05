"""Same story across splits: a rewrite in new words is caught; distinct events in one conflict are not."""

from __future__ import annotations

import json

from conflict_spans.corpus.markup import parse_body
from conflict_spans.corpus.same_story import THRESHOLD, facts, find_same_stories, score_pairs
from conflict_spans.document import Document


def doc(doc_id: str, markup: str, group: str | None = None) -> Document:
    text, spans = parse_body(markup)
    meta = {"conflict": "sudan", "genre": "wire"}
    if group:
        meta["group"] = group
    return Document(doc_id, text, spans, meta)


# one event, told twice in different words (written for this test)
ORIGINAL = ("[RSF]{ACT} drones hit [Kosti]{LOC} fuel depot\n\n[KOSTI]{LOC}, 14 March — Drones launched by the "
            "[Rapid Support Forces]{ACT} struck the [Kosti river port]{LOC} on Thursday, killing [11 dock workers]{CAS:killed} "
            "and wounding [27]{CAS:injured}, the [White Nile state health ministry]{ATT} said. [Governor's office]{ATT} "
            "spokesman [Hamid Tayeb]{ATT} said 4,000 barrels of fuel burned.")
REWRITE = ("Fuel burns at [Kosti]{LOC} port after drone raid\n\nOn 14 March [Rapid Support Forces]{ACT} drones set the "
           "[Kosti river port]{LOC} ablaze. The [White Nile state health ministry]{ATT} counted [11 dock workers]{CAS:killed} "
           "dead and [27]{CAS:injured} hurt. Some 4,000 barrels went up in flames, [Hamid Tayeb]{ATT} told reporters.")
# other events in the same conflict
OTHERS = [
    "[Army]{ACT} retakes [Sinja]{LOC}\n\n[SINJA]{LOC}, 2 July — The [army]{ATT} said it had retaken [Sinja]{LOC} after a week of fighting with the [RSF]{ACT}; [residents]{ATT} reported [6 civilians]{CAS:killed} killed.",
    "Talks stall in [Jeddah]{LOC}\n\nMediators from [Saudi Arabia]{ACT} and the [United States]{ACT} said on 9 May that [army]{ACT} and [RSF]{ACT} delegates had not agreed on aid corridors.",
    "Cholera spreads in [Tawila]{LOC}\n\n[Doctors]{ATT} in [Tawila]{LOC} said 312 cases had been recorded since 20 August; the [RSF]{ACT} blocked two convoys.",
    "Shelling hits [El Obeid]{LOC} market\n\n[Artillery]{ACT} fire killed [nine people]{CAS:killed} in [El Obeid]{LOC} on 3 October, [medics]{ATT} said; the [army]{ATT} blamed the [RSF]{ACT}.",
]


def corpus():
    docs = [doc("sudan-101", ORIGINAL), doc("sudan-102", REWRITE)]
    docs += [doc(f"sudan-2{i:02d}", m) for i, m in enumerate(OTHERS)]
    return docs


def test_facts_cover_names_dates_figures_and_phrases():
    f = facts(doc("x", ORIGINAL))
    assert {"name:kosti river port", "date:14-3", "figure:4000 barrels", "figure:11 dock"} <= f
    assert any(x.startswith("phrase:") for x in f)
    assert not any(x.startswith("figure:14") for x in f)  # the day of a date is a date, not a figure


def test_the_rewrite_is_caught_and_distinct_events_are_not():
    pairs = find_same_stories(corpus())
    assert [(p.a, p.b) for p in pairs] == [("sudan-101", "sudan-102")]
    assert pairs[0].score >= THRESHOLD


def test_scores_of_distinct_events_stay_below_the_threshold():
    scored = {(p.a, p.b): p.score for p in score_pairs(corpus())}
    assert all(s < THRESHOLD for pair, s in scored.items() if pair != ("sudan-101", "sudan-102"))


def test_validate_reports_the_pair_across_splits_with_both_ids(run_cli, tmp_path):
    docs = corpus()
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(d.to_dict(), ensure_ascii=False) for d in docs[:1] + docs[2:]) + "\n", encoding="utf-8")
    (tmp_path / "test.jsonl").write_text(json.dumps(docs[1].to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
    result = run_cli("validate", tmp_path / "train.jsonl", tmp_path / "test.jsonl")
    assert result.returncode == 1
    line = next(l for l in result.stdout.splitlines() + result.stderr.splitlines() if "[same-story]" in l)
    assert "sudan-101" in line and "sudan-102" in line and "in train and test" in line and line.startswith("ERROR")


def test_one_story_in_one_group_is_not_reported(run_cli, tmp_path):
    docs = corpus()
    docs[1].meta["group"] = "sudan-101"
    (tmp_path / "all.jsonl").write_text("\n".join(json.dumps(d.to_dict(), ensure_ascii=False) for d in docs) + "\n", encoding="utf-8")
    result = run_cli("validate", tmp_path / "all.jsonl")
    assert "[same-story]" not in result.stdout + result.stderr
