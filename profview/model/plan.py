"""A query plan the capture asked the database for (``plans.jsonl``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class QueryPlan:
    """The plan of one statement, as the database gave it: SQLite's rows ``[id, parent,
    detail]``, PostgreSQL's or MySQL's JSON; or the error it answered instead."""

    statement: str
    dialect: Optional[str]
    plan: object                      # JSON: a list (SQLite) or a document
    error: Optional[str] = None
    explain: Optional[str] = None     # the EXPLAIN form used ("EXPLAIN QUERY PLAN")
    parameters: Optional[str] = None
    request: Optional[str] = None
    duration_ms: Optional[float] = None
    reason: Optional[str] = None      # "slow" or "repeated"
    source: Optional[str] = None
    line: Optional[int] = None
