"""IOB2-consistent decoding: the best tag path that never opens with ``I-X`` after ``O`` or another label."""

from __future__ import annotations

import numpy as np

from conflict_spans.schema import TAGS


def _allowed_matrix() -> np.ndarray:
    n = len(TAGS)
    allowed = np.ones((n, n), dtype=bool)  # allowed[prev, cur]
    for j, cur in enumerate(TAGS):
        if cur.startswith("I-"):
            label = cur[2:]
            for i, prev in enumerate(TAGS):
                allowed[i, j] = prev in (f"B-{label}", f"I-{label}")
    return allowed


ALLOWED = _allowed_matrix()
START_ALLOWED = np.array([not t.startswith("I-") for t in TAGS])


def viterbi(log_probs: np.ndarray) -> list[int]:
    """Best tag ids under the IOB2 constraints; ``log_probs`` is ``[n_words, n_tags]``."""
    n = log_probs.shape[0]
    if n == 0:
        return []
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


def greedy(log_probs: np.ndarray) -> list[int]:
    return [int(i) for i in log_probs.argmax(axis=-1)]
