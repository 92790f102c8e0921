"""What a captured query plan says: which tables were read in full, which through an index.

Plans are the database's own (``plans.jsonl``, ``profview.capture(explain=True)``), read per
dialect: SQLite's ``EXPLAIN QUERY PLAN`` rows (``SCAN attendance``, ``SEARCH attendance
USING INDEX ix (student_id=?)``), PostgreSQL's JSON nodes (``Seq Scan`` on a ``Relation
Name``, ``Index Scan`` with an ``Index Name``), MySQL's JSON ``table`` objects
(``access_type`` ``ALL`` is a full scan, anything else with a ``key`` uses that index).
Whether a full scan is the problem depends on the statement: it is only said to want an
index when the scanned table is filtered in the WHERE clause (``filter_columns``).
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional

from . import sql

FULL, INDEX = "full scan", "index"
_SQLITE = re.compile(r"^(SCAN|SEARCH)\s+(?:TABLE\s+)?(\w+)(?:\s+AS\s+\w+)?"
                     r"(?:\s+USING\s+(?:COVERING\s+)?(INDEX\s+(\w+)|INTEGER PRIMARY KEY|"
                     r"PRIMARY KEY))?", re.I)
_WHERE = re.compile(r"\bWHERE\b(.*?)(?:\bGROUP\s+BY\b|\bORDER\s+BY\b|\bLIMIT\b|\bHAVING\b|$)",
                    re.I | re.S)
_COLUMN = re.compile(r"(?:(\w+)\.)?(\w+)\s*(?:=|<=|>=|<>|!=|<|>|\bIN\b|\bLIKE\b|\bBETWEEN\b|"
                     r"\bIS\b)", re.I)
_KEYWORDS = {"and", "or", "not", "null", "exists", "select", "case", "when", "then"}


class Access(NamedTuple):
    """How the plan reads one table: ``kind`` FULL or INDEX, and the index's name."""

    table: str
    kind: str
    index: Optional[str] = None


def accesses(plan) -> list:
    """``[Access]`` of a ``QueryPlan`` (empty for an error or a dialect not read)."""
    if plan is None or plan.error or plan.plan is None:
        return []
    if plan.dialect == "sqlite":
        return _sqlite(plan.plan)
    if plan.dialect == "postgresql":
        return _postgres(plan.plan)
    if plan.dialect in ("mysql", "mariadb"):
        return _mysql(plan.plan)
    return []


def _sqlite(rows) -> list:
    out = []
    for row in rows if isinstance(rows, list) else ():
        detail = row[-1] if isinstance(row, list) and row and isinstance(row[-1], str) else ""
        m = _SQLITE.match(detail.strip())
        if not m:
            continue
        if m[1].upper() == "SCAN" and not m[3]:
            out.append(Access(m[2], FULL))
        else:
            out.append(Access(m[2], INDEX, m[4] or (m[3] or "").lower() or None))
    return out


def _walk(node):
    """Every dict inside a JSON document, depth first."""
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            yield item
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)


def _postgres(doc) -> list:
    out = []
    for node in _walk(doc):
        kind, table = node.get("Node Type"), node.get("Relation Name")
        if not isinstance(kind, str) or not isinstance(table, str):
            continue
        if kind == "Seq Scan":
            out.append(Access(table, FULL))
        elif "Index" in kind:
            out.append(Access(table, INDEX, node.get("Index Name")))
    for node in _walk(doc):      # a Bitmap Heap Scan's index is on its child
        if node.get("Node Type") == "Bitmap Index Scan" and isinstance(
                node.get("Index Name"), str):
            out.append(Access(_index_table(doc, node["Index Name"]) or "?", INDEX,
                              node["Index Name"]))
    return out


def _index_table(doc, index: str) -> Optional[str]:
    for node in _walk(doc):
        if node.get("Node Type") == "Bitmap Heap Scan" and isinstance(
                node.get("Relation Name"), str):
            return node["Relation Name"]
    return None


def _mysql(doc) -> list:
    out = []
    for node in _walk(doc):
        table, access = node.get("table_name"), node.get("access_type")
        if isinstance(table, str) and isinstance(access, str):
            if access.upper() == "ALL":
                out.append(Access(table, FULL))
            else:
                out.append(Access(table, INDEX, node.get("key")))
    return out


def filter_columns(statement: str, table: str) -> list:
    """The columns of *table* the statement's WHERE clause compares (qualified with the
    table, or bare when only one table is read), in order, each once."""
    where = _WHERE.search(statement)
    if not where:
        return []
    tables = set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", statement, re.I))
    out = []
    for qualifier, column in _COLUMN.findall(where.group(1)):
        if column.lower() in _KEYWORDS or column.isdigit():
            continue
        if (qualifier == table or not qualifier and tables == {table}) and column not in out:
            out.append(column)
    return out


def plan_for(plans, statement: str):
    """The captured plan of *statement*'s shape (``sql.fingerprint``), or None."""
    fp = sql.fingerprint(statement)
    return next((p for p in plans if sql.fingerprint(p.statement) == fp), None)


class Advice(NamedTuple):
    """What a plan says about a slow statement: a sentence, and a CREATE INDEX to try."""

    text: str
    create_index: Optional[str]


def advice(plan, statement: str) -> Optional[Advice]:
    """The index a plan shows missing (a full scan of a filtered table), or that an index is
    already used (then the slowness is elsewhere); None when the plan says neither."""
    if plan is None:
        return None
    found = accesses(plan)
    where = "%s (%s)" % (plan.explain or "EXPLAIN", plan.dialect)
    for a in found:
        columns = filter_columns(statement, a.table) if a.kind == FULL else []
        if columns:
            name = "ix_%s_%s" % (a.table, "_".join(columns[:3]))
            return Advice("the captured plan (%s) reads %s in full: no index on %s(%s)" % (
                where, a.table, a.table, ", ".join(columns[:3])),
                "CREATE INDEX %s ON %s (%s);" % (name, a.table, ", ".join(columns[:3])))
    used = [a for a in found if a.kind == INDEX and a.index]
    if used and not any(a.kind == FULL and filter_columns(statement, a.table) for a in found):
        return Advice("the captured plan (%s) already uses %s: an index is not what is "
                      "missing; look at the rows it returns, the database's load, or the "
                      "network" % (where, ", ".join("%s on %s" % (a.index, a.table)
                                                    for a in used)), None)
    return None


def describe(plan) -> str:
    """The plan as text for a person (the SQL panel): one access per line, or the error."""
    if plan is None:
        return ""
    if plan.error:
        return "%s could not be had: %s" % (plan.explain or "the plan", plan.error)
    lines = ["%s (%s):" % (plan.explain or "EXPLAIN", plan.dialect)]
    if plan.dialect == "sqlite" and isinstance(plan.plan, list):
        lines += ["  " + str(r[-1]) for r in plan.plan if isinstance(r, list) and r]
    else:
        lines += ["  %s %s%s" % (a.kind, a.table, " using %s" % a.index if a.index else "")
                  for a in accesses(plan)]
    return "\n".join(lines)
