"""One app, its SQL logged twice (an echo log and a cursor listener): each statement is
counted once.  Real data: the first 17 requests of a microblog capture with both logs
(``tests/data/microblog-logs``, truth in its expected.json)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from profview.report.build import build
from profview.loading.scan import load_capture

DATA = Path(__file__).resolve().parent / "data" / "microblog-logs"


def _truth() -> dict:
    return {r["file"]: r["n_queries"]
            for r in json.loads((DATA / "expected.json").read_text())["requests"]}


def test_the_echo_log_of_the_same_statements_is_not_counted_again():
    truth = _truth()
    capture = load_capture([DATA], workers=1)
    assert len(capture.requests) == len(truth) == 17
    assert len(capture.queries) == sum(truth.values()) == 62
    assert {r.name: r.n_queries for r in capture.requests} == truth
    problems = [p for p in capture.problems if p.path.endswith("sqlalchemy.log")]
    assert len(problems) == 1 and problems[0].message.startswith("not used: 62 of its 62 ")
    assert "queries.jsonl" in problems[0].message
    report = build(capture, findings=False)
    assert report["queries"]["loaded"] == 62 and report["queries"]["tied"] == 62


def test_an_echo_log_of_other_statements_is_still_read(tmp_path):
    """The listener's log holds only some requests: the echo log is not a copy of it."""
    for f in DATA.iterdir():
        if f.name != "queries.jsonl":
            shutil.copy2(f, tmp_path / f.name)
    lines = (DATA / "queries.jsonl").read_text().splitlines(keepends=True)
    kept = lines[:len(lines) // 3]
    (tmp_path / "queries.jsonl").write_text("".join(kept))
    capture = load_capture([tmp_path], workers=1)
    echo = [q for q in capture.queries if q.source.endswith("sqlalchemy.log")]
    assert len(echo) == 62                       # read, tied or not
    assert len(capture.queries) == 62 + len(kept)
    assert not any(p.message.startswith("not used") for p in capture.problems)
