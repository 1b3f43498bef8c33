"""Office scope, a security rule written once: a user sees the subjects (with their devices,
alerts and reads) of their office and the offices below it; no office list means the whole
county. Every query that filters by office uses this predicate."""

from __future__ import annotations


def in_offices(column: str) -> str:
    """SQL that holds when `column` is one of the offices in the query's `%(offices)s`
    parameter, or that parameter is NULL (every office). `column` is ours, never input."""
    return f"(%(offices)s::bigint[] IS NULL OR {column} = ANY(%(offices)s))"
