"""The importers: one module per input format, each with ``sniff(name, head)`` and
``load(path)``, and this one registry that picks the importer of a file, by its name first,
then by its content (as speedscope's ``import/index.ts`` does).

- profiles: ``pstats_file`` (cProfile and ``profile`` output; Werkzeug's names are read by
  ``werkzeug_name``);
- query logs: ``query_jsonl`` (JSON lines, profview's own ``queries.jsonl`` or a user's
  listener), ``echo_log`` (SQLAlchemy's engine logger), ``flask_sqlalchemy_log``
  (``get_recorded_queries()``);
- the capture's own sidecars (``requests.jsonl``, ``queries.jsonl``): ``sidecar``;
- stack-based profiles (``profiles.STACK_FORMATS``, the same ``pick``): profview's own
  ``stacks_file``, ``speedscope`` JSON, ``pyinstrument_json`` and ``collapsed`` (folded
  stacks files), each read into ``model.stacks.StackProfile`` (``stack_build``) and, through
  ``stacks_pstats``, into the pstats table the loaders sum; ``profiles`` picks between them
  and pstats for every loader;
- ``folded`` turns the tests' folded trees (``a;b;c 12``) into a call graph (test helper).

``discover`` lists what a path holds; ``files`` reads regular files only, bounded.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from . import echo_log, flask_sqlalchemy_log, pstats_file, query_jsonl


@dataclass(frozen=True)
class Importer:
    """One input format: ``sniff(name, head) -> bool`` and ``load(path) -> (items,
    problems)``; *kind* says what the items are (``"profile"``, ``"queries"``: statements
    that may name their request, ``"echo"``: statements tied later by time)."""

    name: str
    kind: str
    sniff: Callable
    load: Callable


def _echo(path):
    found, problems, _markers = echo_log.load(path)
    return found, problems


PROFILES = (Importer("pstats", "profile", pstats_file.sniff, pstats_file.read),)
# JSON lines first: a JSON log may well mention SQLAlchemy's logger name in a field.
LOGS = (Importer("JSON-lines query log", "queries", query_jsonl.sniff, query_jsonl.load),
        Importer("SQLAlchemy echo log", "echo", echo_log.sniff, _echo),
        Importer("Flask-SQLAlchemy recorded queries", "queries", flask_sqlalchemy_log.sniff,
                 flask_sqlalchemy_log.load))


def pick(importers, name: str, head: bytes) -> Optional[Importer]:
    """The importer of a file called *name* whose first bytes are *head*: the first that
    knows it by its name alone, else the first that knows its content; None for a file of
    something else."""
    for imp in importers:
        if imp.sniff(name, b""):
            return imp
    return next((imp for imp in importers if imp.sniff(name, head)), None)


def for_log(name: str, head: bytes) -> Optional[Importer]:
    """The query-log importer of a file (``pick`` among ``LOGS``)."""
    return pick(LOGS, name, head)


def for_profile(name: str, head: bytes) -> Optional[Importer]:
    """The profile importer of a file (``pick`` among ``PROFILES``)."""
    return pick(PROFILES, name, head)
