"""Endpoints of real third-party apps, against the URL rules Flask itself matched.

Each folder of ``tests/data`` holds profiles written by plain ProfilerMiddleware and
``expected.json``: the Flask URL rule of every request.

- ``smorest``: 31 profiles of rest-api-smorest-docker (flask-smorest ``MethodView``
  resources behind flask-jwt-extended decorators): token checks (an app callback under every
  route) were taken for views, requests answered 401 before the view ran were split off,
  404/405s were merged into ``GET /<...>``.
- ``microblog``: 28 profiles of microblog (Flask-Login, Flask-Babel, a Flask-HTTPAuth token
  API, Jinja templates; the first request cold): a login redirect reaches the app's locale
  selector, the token API's error handler answers 401s, one view serves ``/`` and ``/index``.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from profview.report import build as report
from profview.app.comparison import compare
from profview.analysis.endpoints import group
from profview.loading.scan import load_capture

DATA = Path(__file__).resolve().parent / "data" / "smorest"
APPS = [Path(__file__).resolve().parent / "data" / name for name in ("smorest", "microblog")]


def _truth(data=DATA) -> dict:
    """``{file: Flask's endpoint}``; requests no rule matched are one kind per method (a file
    name cannot tell a 404 from a 405: '/store/' and '/store' are both named GET.store...)."""
    rows = json.loads((data / "expected.json").read_text())["requests"]
    return {r["file"]: r["endpoint"] or ("static" if r["routing"] == "static"
                                          else "%s no rule" % r["method"]) for r in rows}


def _partition(endpoints) -> dict:
    """``{endpoint name: frozenset of true endpoints}`` and the reverse, to compare."""
    return {ep.name: frozenset(r.file.name for r in ep.requests) for ep in endpoints}


@pytest.mark.parametrize("data", APPS, ids=lambda p: p.name)
def test_every_request_grouped_as_flask_routed_it(data):
    truth = _truth(data)
    endpoints = group(load_capture([data], workers=1))
    ours = _partition(endpoints)
    theirs = defaultdict(set)
    for f, endpoint in truth.items():
        theirs[endpoint].add(f)
    assert sorted(ours.values(), key=sorted) == sorted(map(frozenset, theirs.values()),
                                                      key=sorted)
    names = {ep.name for ep in endpoints}
    assert "GET (no URL rule matched: 404 or 405)" in names
    assert not any("(" in n and "no URL rule" not in n for n in names)   # no function names


def test_the_view_and_why():
    endpoints = {ep.name: ep for ep in group(load_capture([DATA], workers=1))}
    item = endpoints["GET /item"]
    assert item.view[2] == "get" and item.view[0].endswith("resources/item.py")
    assert "check_if_token_in_blocklist" in item.why and "callback" in item.why
    assert "never reached the view" in item.why        # the 401s tied by their path
    assert endpoints["GET /openapi/json"].keyed_by == "view"    # library view (flask-smorest)
    rows = {e["name"]: e for e in report.build(load_capture([DATA], workers=1))["endpoints"]}
    assert rows["GET /item"]["keyed_by"] == "view" and rows["GET /item"]["why"] == item.why
    assert rows["GET (no URL rule matched: 404 or 405)"]["keyed_by"] == "routing"


def test_halves_of_one_capture_compare_endpoint_by_endpoint(tmp_path):
    # Every endpoint with requests on both sides is matched, whatever sample each side has.
    files = sorted(DATA.glob("*.prof"))
    for i, f in enumerate(files):
        side = tmp_path / ("a" if i % 2 else "b")
        side.mkdir(exist_ok=True)
        (side / f.name).write_bytes(f.read_bytes())
    truth = _truth()
    both = {truth[f.name] for f in files[0::2]} & {truth[f.name] for f in files[1::2]}
    result = compare(load_capture([tmp_path / "b"], workers=1),
                     load_capture([tmp_path / "a"], workers=1))
    matched = [r for r in result["endpoints"] if r["before"] and r["after"]]
    assert len(matched) == len(both)
    for r in matched:
        assert {truth[f] for f in r["before"]["files"] + r["after"]["files"]} == {
            truth[r["before"]["files"][0]]}


def test_same_files_same_endpoints_however_loaded(tmp_path):
    one = group(load_capture([DATA], workers=1))
    isolated = group(load_capture([DATA], workers=2, isolate=True))   # worker processes
    assert [(e.key, e.name, [r.name for r in e.requests]) for e in one] == [
        (e.key, e.name, [r.name for r in e.requests]) for e in isolated]


def test_microblog_views_and_the_cold_first_request():
    data = APPS[1]
    endpoints = {ep.name: ep for ep in group(load_capture([data], workers=1))}
    assert endpoints["GET /"].view[2] == endpoints["GET /index"].view[2] == "index"
    assert "get_locale" not in {ep.view[2] for ep in endpoints.values() if ep.view}
    login = endpoints["GET /auth/login"]
    first = json.loads((data / "expected.json").read_text())["requests"][0]["file"]
    assert first in {r.file.name for r in login.requests}     # the cold request is not apart
    api = endpoints["GET /api/users"]
    assert api.view[2] == "get_users" and "never reached the view" in api.why
