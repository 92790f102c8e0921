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


_VALUE = r"(?:\?|:\w+|%\(\w+\)s|%s|\$\d+|'[^']*'|-?\d+(?:\.\d+)?|NULL|TRUE|FALSE)"
_REF = r"(?:(\w+)\.)?(\w+)"
_OP = r"(?:=|<=|>=|<>|!=|<|>|\bIN\b|\bLIKE\b|\bIS\b|\bBETWEEN\b)"
# "col op value" and "value op col": SQLAlchemy writes lazy loads as "? = task.user_id"
_COL_VALUE = re.compile(_REF + r"\s*" + _OP + r"\s*(?:NOT\s+)?\(?\s*" + _VALUE, re.I)
_VALUE_COL = re.compile(_VALUE + r"\s*" + _OP + r"\s*" + _REF + r"\b", re.I)
_COL_COL = re.compile(_REF + r"\s*=\s*" + _REF + r"\b", re.I)
_ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+\(?\s*(\w+)(?:\s+AS)?\s+(\w+)", re.I)
_CLAUSE_WORDS = {"on", "where", "join", "left", "right", "inner", "outer", "cross", "group",
                 "order", "limit", "using", "natural", "full"}


_NOT_TABLES = {"select", "with", "values", "lateral", "only"}


def tables_of(statement: str) -> dict:
    """``{name or alias: table}`` of the tables a statement reads (``user AS user_1``); a
    subquery (``FROM (SELECT …``) is not a table."""
    out = {t: t for t in re.findall(r"\b(?:FROM|JOIN)\s+\(?\s*(\w+)", statement, re.I)
           if t.lower() not in _NOT_TABLES}
    for table, alias in _ALIAS.findall(statement):
        if alias.lower() not in _CLAUSE_WORDS and table.lower() not in _NOT_TABLES:
            out[alias] = table
    return out


def filter_columns(statement: str, table: str) -> list:
    """The columns of *table* (a name, or an alias the plan uses) the WHERE clause compares
    with a value, then those it joins on, in order, each once; qualified with the table or
    its alias, or bare when the statement reads one table."""
    where = _WHERE.search(statement)
    if not where:
        return []
    clause = where.group(1)
    names = tables_of(statement)
    mine = {table} | {a for a, t in names.items() if t == table or a == table}
    alone = len(set(names.values())) == 1
    valued, joined = [], []            # (position in the clause, column)

    def take(qualifier, column, at, into) -> None:
        if column.lower() in _KEYWORDS or column.isdigit():
            return
        if qualifier in mine or not qualifier and alone:
            into.append((at, column))

    for m in _COL_VALUE.finditer(clause):
        take(m[1], m[2], m.start(), valued)
    for m in _VALUE_COL.finditer(clause):
        take(m[1], m[2], m.start(), valued)
    for m in _COL_COL.finditer(clause):
        take(m[1], m[2], m.start(), joined)
        take(m[3], m[4], m.start(), joined)
    out = []
    for _at, column in sorted(valued) + sorted(joined):
        if column not in out:
            out.append(column)
    return out


def indexed_columns(plans) -> dict:
    """``{table: {leading column, ...}}`` of the indexes the captured plans show in use
    (SQLite's ``SEARCH t USING INDEX ix (col=?)``): what exists, whichever statement used it."""
    out: dict = {}
    for plan in plans:
        if plan.dialect != "sqlite" or not isinstance(plan.plan, list):
            continue
        for row in plan.plan:
            detail = row[-1] if isinstance(row, list) and row else ""
            m = re.match(r"SEARCH\s+(?:TABLE\s+)?(\w+).*?USING\s+(?:COVERING\s+)?INDEX\s+"
                         r"\w+\s+\((\w+)", str(detail))
            if m:
                out.setdefault(m[1], set()).add(m[2])
    return out


def plan_for(plans, statement: str):
    """The captured plan of *statement*'s shape (``sql.fingerprint``), or None."""
    fp = sql.fingerprint(statement)
    return next((p for p in plans if sql.fingerprint(p.statement) == fp), None)


class Advice(NamedTuple):
    """What a plan says about a slow statement: a sentence, and a CREATE INDEX to try."""

    text: str
    create_index: Optional[str]


def advice(plan, statement: str, plans=()) -> Optional[Advice]:
    """The index a plan shows missing (a full scan of a table the WHERE clause filters), or
    that an index is already used (then the slowness is elsewhere); None when the plan says
    neither.  *plans*: every captured plan, for the indexes they show exist.

    No index is proposed where one would not help: when the WHERE clause has an OR (the
    planner then reads the table whatever its indexes), or when another plan shows an index
    on that column already (this statement's form keeps it from being used)."""
    if plan is None:
        return None
    found = accesses(plan)
    where = "%s (%s)" % (plan.explain or "EXPLAIN", plan.dialect)
    names = tables_of(statement)
    known = indexed_columns(plans)
    clause = _WHERE.search(statement)
    has_or = bool(clause and re.search(r"\bOR\b", clause.group(1), re.I))
    for a in found:
        if a.kind != FULL:
            continue
        columns = filter_columns(statement, a.table)
        if not columns:
            continue
        table = names.get(a.table, a.table)
        shown = "%s(%s)" % (table, ", ".join(columns[:3]))
        if has_or:
            return Advice("the captured plan (%s) reads %s in full; its WHERE clause has an "
                          "OR, which keeps an index on %s from being used: split it into a "
                          "UNION of two queries that each can use one" % (where, table, shown),
                          None)
        if columns[0] in known.get(table, ()):
            return Advice("the captured plan (%s) reads %s in full although an index on "
                          "%s(%s) exists (another statement's plan uses it): this "
                          "statement's form keeps it from being used (a function or a cast "
                          "on the column, a type mismatch)" % (where, table, table, columns[0]),
                          None)
        name = "ix_%s_%s" % (table, "_".join(columns[:3]))
        return Advice("the captured plan (%s) reads %s in full: no index on %s" % (
            where, table, shown), "CREATE INDEX %s ON %s (%s);" % (
            name, table, ", ".join(columns[:3])))
    unfiltered = [names.get(a.table, a.table) for a in found if a.kind == FULL
                  and names.get(a.table, a.table) in names.values()]
    if unfiltered:
        return Advice("the captured plan (%s) reads %s in full, with no WHERE condition on "
                      "it (it is joined, or read whole): the plan names no index to add; look "
                      "at the join and at the rows it returns" % (
                          where, ", ".join(sorted(set(unfiltered)))), None)
    used = [a for a in found if a.kind == INDEX and a.index]
    if used:
        return Advice("the captured plan (%s) already uses %s: an index is not what is "
                      "missing; look at the rows it returns, the database's load, or the "
                      "network" % (where, ", ".join("%s on %s" % (a.index, names.get(
                          a.table, a.table)) for a in used)), None)
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
