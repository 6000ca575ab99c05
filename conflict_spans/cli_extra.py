"""Subcommands added by later parts (predict, audit, Label Studio); each registers itself here."""

from __future__ import annotations


def register(sub) -> None:
    return None
