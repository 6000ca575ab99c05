"""The README's results block is what the committed evaluation reports render to (never typed by hand)."""

from __future__ import annotations

import pytest

from conflict_spans.evaluation.readme import BEGIN, END, render_from, replace_block
from conflict_spans.problems import CorpusError

from conftest import REPO_ROOT


def test_readme_results_block_equals_the_rendered_reports():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(BEGIN):readme.index(END) + len(END)]
    assert block == render_from(REPO_ROOT / "eval" / "results"), \
        "README results drifted from eval/results/*.json: rerun the evaluation with --readme README.md"


def test_replace_block_keeps_everything_outside_the_markers():
    text = f"intro\n{BEGIN}\nold\n{END}\noutro\n"
    assert replace_block(text, f"{BEGIN}\nnew\n{END}") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"


@pytest.mark.parametrize("text", ["no markers", f"{END}\n{BEGIN}", f"{BEGIN}\n{BEGIN}\n{END}"])
def test_a_readme_without_one_ordered_marker_pair_is_refused(text):
    with pytest.raises(CorpusError) as info:
        replace_block(text, "x", "README.md")
    assert info.value.problems[0].code == "readme"
