"""The one registry of importers picks by name, then by content, on real files."""
from __future__ import annotations

import json
from pathlib import Path

from profview import importers
from profview.importers.files import read_head

DATA = Path(__file__).resolve().parent / "data"


def _pick(path: Path):
    imp = importers.for_log(path.name, read_head(path))
    return imp.name if imp else None


def test_each_real_log_gets_its_importer(before, tmp_path):
    assert _pick(DATA / "microblog-logs" / "queries.jsonl") == "JSON-lines query log"
    assert _pick(DATA / "microblog-logs" / "sqlalchemy.log") == "SQLAlchemy echo log"
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text(json.dumps({"statement": "SELECT 1", "parameters": "()",
                                    "duration": 0.0004, "location": "app.py:3 (index)"}) + "\n")
    assert _pick(recorded) == "Flask-SQLAlchemy recorded queries"
    other = tmp_path / "app.log"
    other.write_text("2026-12-01 10:00:00,001 INFO werkzeug GET / 200\n")
    assert _pick(other) is None                      # a log of something else: passed over


def test_profiles_by_name_then_by_content(before, tmp_path):
    prof = next(before.glob("*.prof"))
    assert importers.for_profile(prof.name, b"").name == "pstats"          # the name is enough
    renamed = tmp_path / "capture.bin"
    renamed.write_bytes(prof.read_bytes())
    assert importers.for_profile(renamed.name, b"") is None
    assert importers.for_profile(renamed.name, read_head(renamed)).name == "pstats"
    stats, _callees, _tt = importers.for_profile(prof.name, b"").load(prof)
    assert stats
