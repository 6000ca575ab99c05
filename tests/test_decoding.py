"""Viterbi decoding under IOB2: the argmax shortcut returns what the dynamic programme returns."""
from __future__ import annotations

import numpy as np
import pytest

from conflict_spans.model.decoding import ALLOWED, START_ALLOWED, _viterbi, greedy, is_valid, viterbi
from conflict_spans.schema import TAGS


def viterbi_matrix(log_probs: np.ndarray) -> list[int]:
    """The dynamic programme in numpy over the full transition matrix (forbidden steps score -1e9): the reference."""
    n = log_probs.shape[0]
    neg = -1e9
    trans = np.where(ALLOWED, 0.0, neg)
    score = np.where(START_ALLOWED, log_probs[0], neg)
    back = np.zeros((n, len(TAGS)), dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + trans  # [prev, cur]
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + log_probs[t]
    path = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def score(log_probs: np.ndarray, path: list[int]) -> float:
    return float(log_probs[np.arange(len(path)), path].sum())


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_is_the_best_allowed_path_with_or_without_the_shortcut(seed) -> None:
    rng = np.random.default_rng(seed)
    shortcut = programme = 0
    for _ in range(400):
        n = int(rng.integers(1, 30))
        log_probs = rng.normal(size=(n, len(TAGS))) * rng.choice([0.5, 3.0])
        log_probs[:, TAGS.index("O")] += rng.choice([0.0, 4.0])  # some near a model's output: mostly O
        path = viterbi(log_probs)
        assert is_valid(np.array(path))
        assert score(log_probs, path) == pytest.approx(score(log_probs, _viterbi(log_probs)), abs=1e-9)
        assert _viterbi(log_probs) == viterbi_matrix(log_probs)
        if is_valid(np.array(greedy(log_probs))):
            shortcut += 1
            assert path == greedy(log_probs)
        else:
            programme += 1
            assert score(log_probs, path) < score(log_probs, greedy(log_probs))
    assert shortcut > 20 and programme > 20  # both branches were taken


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_python_programme_is_the_matrix_programme_ties_included(dtype) -> None:
    rng = np.random.default_rng(1)
    for trial in range(1500):
        n = int(rng.integers(1, 40))
        log_probs = (rng.normal(size=(n, len(TAGS))) * rng.choice([0.5, 3.0, 10.0])).astype(dtype)
        if trial % 3 == 0:
            log_probs[:, TAGS.index("O")] += 8
        if trial % 7 == 0:
            log_probs = np.round(log_probs)  # ties
        if trial % 11 == 0:  # a row as word_log_probs writes for a word no window holds
            log_probs[rng.integers(0, n)] = -1e4
        assert _viterbi(log_probs) == viterbi_matrix(log_probs), trial


def test_an_inside_tag_cannot_open_a_span() -> None:
    log_probs = np.full((2, len(TAGS)), -10.0)
    log_probs[0, TAGS.index("I-ACTOR")] = 0.0  # the argmax opens with I-ACTOR: not allowed
    log_probs[0, TAGS.index("B-ACTOR")] = -1.0
    log_probs[1, TAGS.index("I-ACTOR")] = 0.0
    assert not is_valid(np.array(greedy(log_probs)))
    assert [TAGS[i] for i in viterbi(log_probs)] == ["B-ACTOR", "I-ACTOR"]
    assert viterbi(np.zeros((0, len(TAGS)))) == []
