"""The timeline from the file names and ``requests.jsonl`` alone, before any profile is
parsed, so that the timeline of a big capture appears at once."""
from __future__ import annotations

import os

from ..analysis.timeline import Points, preview_points
from ..importers.discover import discover
from ..importers.sidecar import load_sidecars
from ..importers.werkzeug_name import parse_name


def name_points(paths) -> Points:
    """The timeline of *paths* from names and ``requests.jsonl`` only: no profile is opened.
    A file whose name gives no time and elapsed comes with the full load."""
    found, sidecar_files, _problems, _logs = discover(paths)
    side = load_sidecars([f for f in sidecar_files if f.name == "requests.jsonl"])
    rows = []
    for f in found:
        record = side.requests.get(os.path.abspath(f.path)) if side.requests else None
        if record is not None:
            rows.append((record.start, record.elapsed_ms, record.method,
                         record.rule or record.path, f.name, True))
            continue
        wz = parse_name(f.path.name)
        if wz is not None:
            rows.append((wz.time - wz.elapsed_ms / 1000.0, wz.elapsed_ms, wz.method,
                         wz.url_path, f.name, False))
    return preview_points(rows)
