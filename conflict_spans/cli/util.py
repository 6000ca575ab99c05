"""What every command module shares: printing problems."""

from __future__ import annotations

import sys


def print_problems(problems, limit: int | None = None) -> None:
    for p in problems[:limit]:
        print(p.format(), file=sys.stderr)
    if limit is not None and len(problems) > limit:
        print(f"... and {len(problems) - limit} more", file=sys.stderr)
