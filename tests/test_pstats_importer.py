"""The pstats importer: real cProfile output loads exactly; anything else is a clear problem."""
from __future__ import annotations

import marshal
import pickle
import profile
import pstats

import pytest

from profiles import profile_call
from profview.importers import pstats_file
from profview.importers.pstats_file import ProfileError
from profview.model.callgraph import format_func


def _work(n):
    def leaf(i):
        return sum(range(i))
    return [leaf(i) for i in range(n)] + sorted(str(i) for i in range(n))


def test_real_profile_matches_stdlib_pstats(tmp_path):
    path = profile_call(tmp_path / "GET.work.3ms.1795313503.prof", _work, 2000)
    graph = pstats_file.load(path)
    oracle = pstats.Stats(str(path)).stats  # the standard library as the reference reader
    assert set(graph.functions) == set(oracle)
    for key, (cc, nc, tt, ct, callers) in oracle.items():
        s = graph.functions[key]
        assert (s.ncalls, s.primcalls, s.tottime, s.cumtime) == (nc, cc, tt, ct)
        assert set(graph.callers(key)) == set(callers)
        for caller, (enc, ecc, ett, ect) in callers.items():
            assert graph.edges[(caller, key)] == (enc, ecc, ett, ect)
            assert key in graph.callees(caller)
    leaf = next(k for k in graph.functions if k[2] == "leaf")
    assert graph.functions[leaf].ncalls == 2000


def test_pure_python_profile_module_loads(tmp_path):
    # ``profile`` (not cProfile) stores bare call counts on edges
    prof = profile.Profile()
    prof.runcall(_work, 50)
    path = tmp_path / "pure.prof"
    prof.dump_stats(str(path))
    graph = pstats_file.load(path)
    leaf = next(k for k in graph.functions if k[2] == "leaf")
    (edge,) = graph.callers(leaf).values()
    assert edge.ncalls == 50


def _good_stats():
    return {("app.py", 1, "view"): (1, 1, 0.5, 1.0, {}),
            ("~", 0, "<built-in method time.sleep>"): (1, 1, 0.5, 0.5,
                                                       {("app.py", 1, "view"): (1, 1, 0.5, 0.5)})}


BAD = {
    "empty": (b"", "empty file"),
    "truncated": (marshal.dumps(_good_stats())[:-7], "truncated or corrupt"),
    "random": (bytes(range(256)) * 4, "not a pstats file"),
    "pickle": (pickle.dumps(_good_stats()), "pickle"),
    "text": (b"GET / 200 OK\n", "not a pstats file"),
    "list": (marshal.dumps([1, 2, 3]), "not a pstats file"),
    "empty dict": (marshal.dumps({}), "no functions"),
    "bad key": (marshal.dumps({("a.py", "1", "f"): (1, 1, 0.1, 0.1, {})}),
                "malformed function key"),
    "short value": (marshal.dumps({("a.py", 1, "f"): (1, 1, 0.1, {})}), "malformed stats"),
    "string time": (marshal.dumps({("a.py", 1, "f"): (1, 1, "0.1", 0.1, {})}),
                    "malformed stats"),
    "nan time": (marshal.dumps({("a.py", 1, "f"): (1, 1, float("nan"), 0.1, {})}),
                 "malformed stats"),
    "complex time": (marshal.dumps({("a.py", 1, "f"): (1, 1, 1j, 0.1, {})}), "malformed stats"),
    "negative calls": (marshal.dumps({("a.py", 1, "f"): (-1, 1, 0.1, 0.1, {})}),
                       "malformed stats"),
    "bad edge": (marshal.dumps({("a.py", 1, "f"): (1, 1, 0.1, 0.1, {("a.py", 1, "f"): (1, 1)})}),
                 "malformed call"),
    "edge of strings": (marshal.dumps({("a.py", 1, "f"): (
        1, 1, 0.1, 0.1, {("a.py", 1, "f"): ("a", "b", "c", "d")})}), "malformed call"),
    "unknown caller": (marshal.dumps({("a.py", 1, "f"): (
        1, 1, 0.1, 0.1, {("b.py", 2, "g"): (1, 1, 0.1, 0.1)})}), "not in the profile"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_input_is_a_clear_problem(tmp_path, case):
    data, message = BAD[case]
    path = tmp_path / "bad.prof"
    path.write_bytes(data)
    with pytest.raises(ProfileError) as info:
        pstats_file.load(path)
    assert message in str(info.value)
    assert len(str(info.value)) < 400  # a message for a person, not a dump of the data


def test_size_limit(tmp_path):
    path = tmp_path / "big.prof"
    path.write_bytes(marshal.dumps(_good_stats()))
    with pytest.raises(ProfileError, match="over the"):
        pstats_file.load(path, max_bytes=10)


def test_absurd_names_load_and_are_shortened_for_display(tmp_path):
    from profview.analysis.codeloc import shorten
    huge = "f" * 1_000_000
    path = tmp_path / "huge.prof"
    path.write_bytes(marshal.dumps({("app.py", 1, huge): (1, 1, 0.1, 0.1, {})}))
    graph = pstats_file.load(path)
    (key,) = graph.functions
    assert key[2] == huge
    assert len(shorten(format_func(key))) <= 120


def test_sniff_by_name_then_content():
    assert pstats_file.sniff("GET.root.3ms.1.prof")
    assert pstats_file.sniff("run.PSTATS")
    assert pstats_file.sniff("noext", marshal.dumps(_good_stats())[:4])
    assert not pstats_file.sniff("notes.txt", b"hello")


def test_foreign_names_keep_their_form(tmp_path, capsys):
    # A profile as a Windows machine writes it: drive letters, backslashes, frozen modules,
    # generated code and built-ins.
    app = r"C:\work\shop\app.py"
    flask = r"C:\work\shop\venv\Lib\site-packages\flask\app.py"
    keys = {
        "dispatch": (flask, 1841, "dispatch_request"),
        "view": (app, 12, "checkout"),
        "frozen": ("<frozen importlib._bootstrap>", 1165, "_find_and_load"),
        "string": ("<string>", 1, "_generated_cache_key_traversal"),
        "sleep": ("~", 0, "<built-in method time.sleep>"),
    }
    k = keys
    stats = {
        k["dispatch"]: (1, 1, 0.001, 0.5, {}),
        k["view"]: (1, 1, 0.001, 0.499, {k["dispatch"]: (1, 1, 0.001, 0.499)}),
        k["frozen"]: (1, 1, 0.001, 0.001, {k["view"]: (1, 1, 0.001, 0.001)}),
        k["string"]: (2, 2, 0.001, 0.001, {k["view"]: (2, 2, 0.001, 0.001)}),
        k["sleep"]: (1, 1, 0.496, 0.496, {k["view"]: (1, 1, 0.496, 0.496)}),
    }
    path = tmp_path / "POST.checkout.500ms.1795313503.prof"
    path.write_bytes(marshal.dumps(stats))
    graph = pstats_file.load(path)
    assert format_func(k["view"]) == r"C:\work\shop\app.py:12(checkout)"
    assert set(graph.functions) == set(keys.values())

    from profview.cli import main
    import json
    assert main(["report", str(path), "--json"]) == 0
    (ep,) = json.loads(capsys.readouterr().out)["endpoints"]
    assert ep["name"] == "POST /checkout"
    assert ep["view"] == r"C:\work\shop\app.py:12(checkout)"
    assert ep["top_functions"][0]["function"] == "~:0(<built-in method time.sleep>)"
    assert {t["function"] for t in ep["top_functions"]} >= {
        "<frozen importlib._bootstrap>:1165(_find_and_load)",
        "<string>:1(_generated_cache_key_traversal)"}


def test_addresses_in_builtin_names_are_dropped_and_their_entries_added(tmp_path):
    """cProfile names some built-ins by object address, which differs per run and object:
    the same function must be one entry, in one capture and across two."""
    view = ("app.py", 3, "view")
    a = ("~", 0, "<built-in method __new__ of type object at 0x7f3ecd85ea00>")
    b = ("~", 0, "<built-in method __new__ of type object at 0x7f5457e5ea00>")
    stats = {view: (1, 1, 0.5, 1.0, {}),
             a: (2, 2, 0.1, 0.1, {view: (2, 2, 0.1, 0.1)}),
             b: (3, 3, 0.2, 0.2, {view: (3, 3, 0.2, 0.2)})}
    path = tmp_path / "GET.x.1ms.1795313503.prof"
    path.write_bytes(marshal.dumps(stats))
    graph = pstats_file.load(path)
    plain = ("~", 0, "<built-in method __new__ of type object>")
    assert set(graph.functions) == {view, plain}
    s = graph.functions[plain]
    assert (s.ncalls, s.primcalls) == (5, 5)
    assert s.tottime == pytest.approx(0.3) and s.cumtime == pytest.approx(0.3)
    assert graph.edges[(view, plain)].ncalls == 5
    assert pstats_file.read(path).callees == {view: [plain]}     # the index follows, once
    # and in a real profile: a method called through super() is named with its address
    import random

    def work():
        return [random.Random(i).random() for i in range(3)]
    real_path = profile_call(tmp_path / "GET.y.1ms.1795313504.prof", work)
    real = pstats_file.load(real_path)
    names = [k[2] for k in real.functions]
    # the callee index names exactly the edges of the renamed stats, each once
    data = pstats_file.read(real_path)
    expected: dict = {}
    for key, value in data.stats.items():
        for caller in value[4]:
            expected.setdefault(caller, set()).add(key)
    assert {c: set(v) for c, v in data.callees.items() if v} == expected
    assert all(len(v) == len(set(v)) for v in data.callees.values())
    assert any(n.startswith("<function Random.seed") for n in names)
    assert not any(" at 0x" in n for n in names)
