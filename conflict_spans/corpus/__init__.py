"""Corpus stage: reading and writing documents, validation, splits, build, statistics, formats, agreement and audit."""
