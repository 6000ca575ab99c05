"""Package data: the files the library reads at run time, shipped in the wheel.

- ``spacy_label_map.json``: en_core_web_sm's labels -> ours (the spacy-pretrained baseline);
- ``re3d_label_map.json``: re3d's and our labels -> the classes both share (the out-of-domain check);
- ``spacy_config.cfg``: the spacy-finetuned baseline's training config;
- ``linker.json``: the learned linker's weights, trained on the train split's links by
  ``conflict-spans train-linker``, with the validation scores that chose the default linker;
- ``corpus/``: the bundled corpus (``data/{train,validation,test}.jsonl``, ``conflicts.json``,
  the dataset card), copied in when the wheel is built (setup.py); a checkout reads ``corpus/`` itself.

Read them through :func:`resource_path`, never through the repository tree.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource_path(name: str) -> Path:
    """The path on disk of package data file ``name`` (pip installs packages unzipped)."""
    return Path(str(files(__name__).joinpath(name)))
