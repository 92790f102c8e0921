"""Exports for other tools, checked by those tools' own rules: speedscope files against
speedscope's JSON schema, callgrind files by gprof2dot's parser, folded stacks and speedscope
files by reading them back, and the Parquet tables by DuckDB giving the report's p50s."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from profview.analysis import stacks as stack_analysis
from profview.cli import main
from profview.importers import profiles
from profview.loading.scan import load_capture
from profview.report import exports
from profview.report.build import build

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_profiles"
SCHEMA = json.loads((Path(__file__).parent / "data" / "speedscope" /
                     "file-format-schema.json").read_text())


@pytest.fixture(scope="module")
def stacks():
    return load_capture([SAMPLES / "stacks"], workers=1)


@pytest.fixture(scope="module")
def before():
    return load_capture([SAMPLES / "before"], workers=1)


def test_speedscope_export_is_valid_and_its_samples_are_the_requests(stacks, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    _name, requests = exports.scope_requests(stacks, "GET /roster")
    doc, problems = exports.speedscope_doc(requests)
    jsonschema.validate(doc, SCHEMA)
    assert problems == [] and len(doc["profiles"]) == len(requests)
    for prof, request in zip(doc["profiles"], requests):
        own = profiles.load_stacks(request.stacks)[0]
        assert prof["weights"] == pytest.approx((own.weights() * 1000).tolist())
        assert prof["name"] == request.label
    # read back by profview: the same exact tree as the requests' own stacks
    path = tmp_path / "roster.speedscope.json"
    path.write_text(json.dumps(doc))
    again = stack_analysis.stack_tree(profiles.load_stacks(path)).tree
    first = stack_analysis.stack_tree(
        [p for r in requests for p in profiles.load_stacks(r.stacks)]).tree
    assert again.total[0] == pytest.approx(first.total[0])
    assert sorted(zip(again.funcs[1:], np.round(again.total[1:], 9))) == \
        sorted(zip(first.funcs[1:], np.round(first.total[1:], 9)))


def test_pstats_requests_export_in_exact_mode_and_say_so(before):
    jsonschema = pytest.importorskip("jsonschema")
    _name, requests = exports.scope_requests(before, "GET /roster")
    doc, _problems = exports.speedscope_doc(requests)
    jsonschema.validate(doc, SCHEMA)
    assert "exact mode" in doc["name"]
    names = {f["name"] for f in doc["shared"]["frames"]}
    assert "[called from several places]" in names           # never split by a guess
    for prof, r in zip(doc["profiles"], requests):
        # pstats' own sums differ by rounding between self and cumulative times
        assert sum(prof["weights"]) == pytest.approx(r.total_tt * 1000, rel=1e-3)


def test_folded_export_reads_back_to_the_same_times(stacks, tmp_path):
    _name, requests = exports.scope_requests(stacks)
    text, problems = exports.folded_text(requests)
    assert problems == [] and text.startswith("# profview folded stacks")
    path = tmp_path / "all.folded"
    path.write_text(text)
    again = profiles.read(path)
    sampled = sum(p.weights().sum() for r in requests for p in profiles.load_stacks(r.stacks))
    assert again.total_tt == pytest.approx(sampled, abs=1e-6 * len(text.splitlines()))
    (prof,) = profiles.load_stacks(path)
    assert prof.notes == ()                  # the file says its unit: nothing estimated


def test_callgrind_export_is_read_by_gprof2dot(before, tmp_path):
    import gprof2dot

    _name, requests = exports.scope_requests(before)
    text, problems = exports.callgrind_text(requests)
    assert problems == []
    path = tmp_path / "all.callgrind"
    path.write_text(text)
    with open(path, encoding="utf-8") as stream:
        parsed = gprof2dot.CallgrindParser(stream).parse()
    names = {f.name for f in parsed.functions.values()}
    assert any("roster" in n for n in names)
    # the total gprof2dot reads (nanoseconds) is the summed self time of the requests
    assert parsed[gprof2dot.SAMPLES] == pytest.approx(sum(r.total_tt for r in requests) * 1e9,
                                                      rel=1e-6)
    dot = subprocess.run([sys.executable, "-m", "gprof2dot", "-f", "callgrind", str(path)],
                         capture_output=True, text=True)
    assert dot.returncode == 0 and dot.stdout.startswith("digraph")


def test_duckdb_over_the_parquet_export_gives_the_reports_p50s(before, tmp_path):
    pytest.importorskip("pyarrow")
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "fleet"
    assert main(["export", str(SAMPLES / "before"), "--parquet", str(out),
                 "--host", "web-1"]) == 0
    assert main(["export", str(SAMPLES / "after"), "--parquet", str(out),
                 "--host", "web-2"]) == 0          # a second server, into the same tree
    query = (ROOT / "README.md").read_text().split("<!-- duckdb-p50 -->")[1] \
        .split("```sql")[1].split("```")[0].replace("OUT", str(out))
    rows = duckdb.sql(query).fetchall()
    got = {(host, endpoint): p50 for host, endpoint, p50 in rows}
    for host, directory in (("web-1", "before"), ("web-2", "after")):
        report = build(load_capture([SAMPLES / directory], workers=1), findings=False)
        want = {e["name"]: e["p50_ms"] for e in report["endpoints"]}
        assert {e: p for (h, e), p in got.items() if h == host} == pytest.approx(want)
    tables = {p.name for p in out.iterdir()}
    assert tables == {"requests", "endpoints", "functions", "queries"}
    assert (out / "requests" / "date=2026-11-22" / "host=web-1").is_dir() or any(
        (out / "requests").glob("date=*/host=web-1"))


def test_export_refuses_to_write_into_what_it_reads(tmp_path, capsys):
    target = SAMPLES / "before" / "x.speedscope.json"
    assert main(["export", str(SAMPLES / "before"), "--speedscope", str(target)]) == 2
    assert "being read" in capsys.readouterr().err and not target.exists()
    assert main(["export", str(SAMPLES / "before"), "--folded", str(tmp_path / "a"),
                 "--endpoint", "GET /nowhere"]) == 2
    assert "GET /roster" in capsys.readouterr().err       # the names it has
