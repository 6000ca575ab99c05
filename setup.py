"""Ship the bundled corpus inside the wheel.

The corpus lives in ``corpus/`` at the top of the repository (built there by
``conflict-spans build``); the package reads it from there in a checkout. A
wheel has no checkout, so building one copies the corpus's built data, its
conflict list, provenance verdicts, gold casualty figures and dataset card into
``conflict_spans/resources/corpus/`` (the same layout: ``data/*.jsonl`` beside
the card). Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CORPUS_FILES = ("data/train.jsonl", "data/validation.jsonl", "data/test.jsonl", "conflicts.json", "provenance_review.tsv", "counts_gold.tsv", "README.md")


class BuildPyWithCorpus(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "conflict_spans" / "resources" / "corpus"
        for name in CORPUS_FILES:
            source = ROOT / "corpus" / name
            if not source.is_file():
                raise FileNotFoundError(f"{source}: the wheel ships the built corpus; run `conflict-spans build` first")
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)


setup(cmdclass={"build_py": BuildPyWithCorpus})
