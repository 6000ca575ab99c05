"""Annotation stage: the Label Studio loop (config, results, tasks, client, server, ML backend)."""
