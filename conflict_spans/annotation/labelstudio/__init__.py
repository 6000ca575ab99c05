"""The Label Studio loop: a local server, the labeling config, push, pull, agreement, an ML backend.

Modules, one job each:

- ``config``: the labeling config generated from ``conflict_spans.schema``, and the tag names read back from any config
- ``results``: spans <-> Label Studio results (``region_results`` is the one function that shapes them)
- ``tasks``: documents <-> tasks, and the policies that pick annotations on pull
- ``client``: SDK calls (projects, push, export, ML backend connection)
- ``server``: start/stop Label Studio in ``.venv-ls`` on 127.0.0.1, by pid
- ``ml_backend``: a standard-library HTTP server speaking the ML backend protocol
- its user-facing problems are in the catalogue, ``conflict_spans.problems``
- ``cli``: ``conflict-spans ls ...``

Importing this package imports neither the SDK nor torch; the modules load them when called.
"""
