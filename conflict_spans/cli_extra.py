"""Subcommands that live in their own modules; each module exposes ``register(subparsers)``."""

from __future__ import annotations

import importlib

MODULES = (
    "conflict_spans.predict_cli",
    "conflict_spans.audit",
    "conflict_spans.labelstudio.cli",
    "conflict_spans.evaluation.cli",
)


def register(sub) -> None:
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not (exc.name and name.startswith(exc.name)):  # a real import error inside the module: surface it
                raise
            continue
        module.register(sub)
