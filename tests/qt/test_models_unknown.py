"""The endpoint tree shows a query count it does not know as "unknown", never 0."""
from __future__ import annotations

from test_sql_tying import real_slice, write_echo
from profview.analysis.endpoints import group
from profview.loading.scan import load_capture
from profview.qt.models import EndpointModel

QUERIES = 6      # the endpoint tree's queries column


def test_unknown_counts_read_unknown(qtmodeltester, tmp_path):
    rows = real_slice(tmp_path)
    write_echo(tmp_path / "app.log", [(r["ts_start"], r["statement"], r["parameters"])
                                      for r in rows])
    capture = load_capture([tmp_path], workers=1)
    model = EndpointModel()
    model.set_capture(capture, group(capture))
    qtmodeltester.check(model)
    cells = {}
    for row in range(model.rowCount()):
        parent = model.index(row, 0)
        cells[parent.data()] = model.index(row, QUERIES).data()
        for child in range(model.rowCount(parent)):
            r = model.index(child, 0, parent).data()
            cells[r] = model.index(child, QUERIES, parent).data()
    assert cells["All requests"] == "unknown"
    by_request = {k: v for k, v in cells.items() if ":" in k}   # request rows start with a time
    assert sorted(by_request.values()) == ["0", "0", "1", "37", "5", "unknown", "unknown"]
