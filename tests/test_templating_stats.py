import math
import statistics

import pytest

from profview.analysis.codeloc import classify
from profview.analysis.stats import format_ms, nearest_rank, p50, p95
from profview.analysis.templating import infer_pattern, template_paths


def test_infer_pattern_keeps_constant_segments():
    assert infer_pattern(["/user/alice", "/user/bob"]) == "/user/<...>"
    assert infer_pattern(["/user/alice"]) == "/user/alice"
    assert infer_pattern(["/"]) == "/"
    assert infer_pattern(["/a/1", "/a/2/edit"]) == "/a/1 | /a/2/edit"


def test_template_ids_and_high_cardinality():
    uuid = "123e4567-e89b-12d3-a456-426614174000"
    paths = ["/orders/17", "/orders/%s" % uuid, "/blob/deadbeef42", "/health", "/health"]
    paths += ["/u/%s" % n for n in ("ann", "bo", "cy", "di", "ed", "flo")]
    t = template_paths(paths)
    assert t["/orders/17"] == t["/orders/" + uuid] == "/orders/<...>"
    assert t["/blob/deadbeef42"] == "/blob/<...>"
    assert t["/health"] == "/health"
    assert {t["/u/ann"], t["/u/flo"]} == {"/u/<...>"}
    # few distinct values, each seen often: static routes, kept apart
    static = ["/api/%s" % n for n in ("users", "orders", "carts", "items", "pay")] * 4
    assert len(set(template_paths(static).values())) == 5


def test_absurd_paths_do_not_recurse_forever():
    deep = "/" + "/".join("s%d" % i for i in range(10_000))
    assert template_paths([deep])[deep].count("/") == 64


@pytest.mark.parametrize("values", [[5.0], [1.0, 2.0], [3, 1, 2, 10, 7], list(range(1, 101))])
def test_percentiles(values):
    assert p50(values) == statistics.median(values)
    ordered = sorted(values)
    assert p95(values) == ordered[math.ceil(0.95 * len(values)) - 1]
    assert nearest_rank(values, 100) == max(values)


def test_format_ms():
    assert [format_ms(v) for v in (0.42, 3.14, 38.2, 1500, 65000)] == [
        "0.42 ms", "3.1 ms", "38 ms", "1.50 s", "65.0 s"]


def test_code_locations_from_other_machines():
    win = r"C:\projects\app\venv\lib\site-packages\flask\app.py"
    assert classify(win) == ("package", "flask")
    assert classify(r"C:\Python313\Lib\asyncio\base_events.py")[0] == "stdlib"
    assert classify("/usr/lib/python3.11/json/decoder.py")[0] == "stdlib"
    assert classify("/srv/blog/views.py")[0] == "app"
    assert classify("<frozen importlib._bootstrap>")[0] == "stdlib"
    assert classify("~")[0] == classify("<string>")[0] == "builtin"
