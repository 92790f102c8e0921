"""Find the profile files under the paths a user gave (files and directories, recursively)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, NamedTuple

from ..model.request import Problem
from . import sidecar
from .profiles import SUFFIXES as PROFILE_SUFFIXES, is_profile_json


LOG_SUFFIXES = (".log", ".jsonl")   # query logs beside the profiles (sniffed when read)


class Found(NamedTuple):
    path: Path                 # the file
    name: str                  # relative to the directory the user gave (or the bare name)
    record: object = None      # its line in requests.jsonl (sidecar.RequestRecord), if any


class Discovery(NamedTuple):
    profiles: list             # [Found]
    sidecars: list             # [Path] of requests.jsonl / queries.jsonl files
    problems: list             # [Problem]
    logs: list = []            # [Path] of other *.log / *.jsonl files: maybe query logs


def _walk(root: Path) -> Iterable[Path]:
    """Every file under *root*, directories in sorted order, depth first.

    Iterative (a directory 1,100 levels deep overflowed the recursion of ``os.walk`` before
    Python 3.12); directory symlinks are not followed (no loops); an unreadable directory is
    raised once the readable rest has been listed.
    """
    errors: list = []
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            errors.append(exc)
            continue
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                subdirs.append(entry.path)
            else:
                yield Path(entry.path)
        stack.extend(reversed(subdirs))
    for error in errors:
        raise error


def discover(paths: Iterable) -> Discovery:
    """The profile files and capture sidecars under *paths*, and the paths that failed.

    A file given by name is taken whatever its suffix (it is checked when read); inside a
    directory only profiles (``.prof``/``.pstats``, and the stack-based inputs of
    ``profiles.SUFFIXES``, ``.json`` files whose content is speedscope's or pyinstrument's),
    the sidecars and ``*.log``/``*.jsonl`` logs count.  (A ``.stacks`` file of profview's
    capture is its requests' stacks, found through ``requests.jsonl``: not listed.)  Each file is listed once.
    """
    found: list = []
    sidecars: list = []
    logs: list = []
    problems: list = []
    seen: set = set()

    def add(path: Path, name: str, real: str) -> None:
        if real not in seen:
            seen.add(real)
            if sidecar.sniff(path.name):
                sidecars.append(path)
            elif path.name.lower().endswith(LOG_SUFFIXES):
                logs.append(path)
            else:
                found.append(Found(path, name))

    for given in paths:
        root = Path(given)
        if root.is_dir():
            # One realpath per directory given, not per file (it was most of the time taken
            # to list 10,000 files); files are keyed by it plus their relative path.
            real_root = os.path.realpath(root)
            try:
                for path in _walk(root):
                    lower = path.name.lower()
                    if (lower.endswith(PROFILE_SUFFIXES + LOG_SUFFIXES)
                            or sidecar.sniff(path.name)
                            or lower.endswith(".json") and is_profile_json(path)):
                        rel = path.relative_to(root).as_posix()
                        add(path, rel, os.path.join(real_root, rel))
            except OSError as exc:
                problems.append(Problem(str(root), "cannot read directory: %s" % exc.strerror))
        elif root.is_file():
            add(root, root.name, os.path.realpath(root))
        elif root.exists():
            problems.append(Problem(str(root), "not a regular file or directory"))
        else:
            problems.append(Problem(str(root), "no such file or directory"))
    return Discovery(found, sidecars, problems, logs)
