"""The detectors behind `stats`' counts of real-wire-copy forms (guidelines §8.11), table-driven."""

from __future__ import annotations

import pytest

from conflict_spans.corpus.forms import FORMS
from conflict_spans.corpus.markup import parse_body
from conflict_spans.document import Document


def doc(markup: str) -> Document:
    text, spans = parse_body(markup)
    return Document("d", text, spans, {})


# (form, markup written for the test, carries the form?)
CASES = [
    ("F1 long official names", "The [United Nations Assistance Mission in Afghanistan]{ATT} ([UNAMA]{ATT}) said.", True),
    ("F1 long official names", "The [Rapid Support Forces]{ACT} advanced.", False),
    ("F2 unit designations", "The [2nd Battalion, 5th Marine Regiment]{ACT} moved north.", True),
    ("F2 unit designations", "The [Fifth Armoured Division]{ACT} moved north.", True),
    ("F2 unit designations", "Some [5,000 troops]{ACT} moved north.", False),
    ("F3a diacritics", "Shelling hit [Shaykh Miskīn]{LOC}.", True),
    ("F3a diacritics", "Shelling hit [Daraa]{LOC}.", False),
    ("F3b original script in parentheses", "Shelling hit [Grozny]{LOC} ([Грозный]{LOC}).", True),
    ("F3b original script in parentheses", "Shelling hit [Грозный]{LOC}.", False),
    ("F4 plain demonyms and group nouns", "Serbian artillery shelled villages held by [Bosnian government forces]{ACT}.", True),
    ("F4 plain demonyms and group nouns", "[Residents]{ATT} said [rebels]{ACT} had left.", False),
    ("F5 pronoun or distant speakers", "“The road is shut. Nobody passes,” [he]{ATT} said.", True),
    ("F5 pronoun or distant speakers", "“The road is shut. Nobody passes,” a [commander]{ATT} said.", True),
    ("F5 pronoun or distant speakers", "The [army]{ATT} said the road was shut.", False),
    ("F6a datelines", "Headline\n\n[GROZNY]{LOC}, Jan. 12 (Caucasus Wire) — Fighting resumed.", True),
    ("F6b bylines", "Headline\n\nBy Marta Velić\n\nFighting resumed.", True),
    ("F6c agency credits", "Headline\n\nFighting resumed.\n\nReporting by Lena Okafor; editing by Tom Reyes", True),
    ("F6d photo captions", "Headline\n\nPhoto: Displaced families queue for water at [Zam Zam camp]{LOC}.", True),
    ("F6 datelines, bylines, credits, captions", "Headline\n\nFighting resumed on Sunday.", False),
]


@pytest.mark.parametrize("form, markup, expected", CASES)
def test_form_detectors(form, markup, expected):
    detect, _ = FORMS[form]
    assert detect(doc(markup)) is expected


def test_stats_prints_every_form(run_cli):
    result = run_cli("stats")
    assert result.returncode == 0, result.stderr
    for name in FORMS:
        assert f"| {name} |" in result.stdout
    assert "| no CASUALTY span |" in result.stdout and "| over 700 words |" in result.stdout
