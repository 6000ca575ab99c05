"""conflict-spans: an annotated corpus of conflict news and the tools around it.

The stages live in subpackages (see ARCHITECTURE.md): ``corpus``, ``model``,
``evaluation``, ``annotation``, and the command line in ``cli``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def load_corpus(data_dir: Any = None) -> Any:
    """The bundled corpus as a ``datasets.DatasetDict`` (train, validation, test); ``data_dir`` reads other split files."""
    from conflict_spans.corpus.formats import load_corpus as load

    return load(data_dir)
