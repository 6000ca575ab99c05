"""Evaluation on the held-out split: our model and the baselines side by side.

``run.evaluate`` is the entry point (``python eval/evaluate.py`` and
``conflict-spans evaluate`` call it); the scorers themselves are pure functions
in :mod:`conflict_spans.evaluation.scoring`, :mod:`conflict_spans.evaluation.bootstrap` and
:mod:`conflict_spans.evaluation.errorlist`.
"""
