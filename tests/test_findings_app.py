"""Templates, repeated work, cold starts, debug mode and sessions, on profiles of real Flask
apps."""
from __future__ import annotations

import functools

import pytest

from flask import Flask, render_template_string, session

from findings_data import by_endpoint, crunch, findings, run_app, spin
from profiles import import_fresh, write_modules

PAGE = "<ul>" + "".join("{%% if items[%d] %%}<li>{{ items[%d] | upper }}</li>{%% endif %%}"
                        % (i, i) for i in range(40)) + "</ul>"


def _template_app():
    app = Flask(__name__)
    compiled = app.jinja_env.from_string(PAGE)   # compiled once, at start-up

    @app.get("/per-request")
    def per_request():
        return render_template_string(PAGE, items=["x"] * 40)

    @app.get("/once")
    def once():
        return compiled.render(items=["x"] * 40)
    return app


def test_template_compiled_per_request(tmp_path):
    capture = run_app(tmp_path, _template_app(), ["/per-request", "/once"] * 3)
    found = by_endpoint(findings(capture, "template_heavy"))
    assert set(found) == {"GET /per-request"}
    f = found["GET /per-request"]
    assert f.title.startswith("Template compiled per request")
    assert f.evidence[0].func[2] == "compile" and "render_template_string" in f.fix


def test_template_compiled_once_is_no_finding(tmp_path):
    capture = run_app(tmp_path, _template_app(), ["/once"] * 3)
    assert findings(capture, "template_heavy") == []


@functools.lru_cache(maxsize=None)
def _cached_crunch() -> int:
    return crunch()


def _work_app():
    app = Flask(__name__)

    @app.get("/report")
    def report():
        return str(crunch())

    @app.get("/cached")
    def cached():
        return str(_cached_crunch())
    return app


def test_repeated_identical_work_is_a_caching_candidate(tmp_path):
    capture = run_app(tmp_path, _work_app(), ["/report"] * 3)
    found = findings(capture, "repeated_work")
    assert [f.endpoints for f in found] == [("GET /report",)]
    assert found[0].evidence[0].func[2] == "crunch" and "lru_cache" in found[0].fix


def test_cached_work_is_not_repeated(tmp_path):
    _cached_crunch.cache_clear()
    capture = run_app(tmp_path, _work_app(), ["/cached"] * 4)
    assert findings(capture, "repeated_work") == []


MODEL = """
    from profiles import CLOCK

    def _train():
        weights = sum(range(1000))
        CLOCK.ns += 80_000_000   # training costs 80 ms (virtual clock)
        return weights

    WEIGHTS = _train()   # the 'language model', built when first imported
    """


def _model_app(tmp_path, eager: bool):
    write_modules(tmp_path / "mods", {"tinymodel.py": MODEL})
    if eager:
        import_fresh(tmp_path / "mods", "tinymodel")
    app = Flask(__name__)

    @app.get("/answer")
    def answer():
        import sys
        if "tinymodel" not in sys.modules:   # loaded on first use, inside a request
            import_fresh(tmp_path / "mods", "tinymodel")
        return str(sys.modules["tinymodel"].WEIGHTS > 0 and spin(2))
    return app


def test_cold_start_shows_the_first_request_and_its_frames(tmp_path):
    import sys
    sys.modules.pop("tinymodel", None)
    capture = run_app(tmp_path / "c", _model_app(tmp_path, eager=False), ["/answer"] * 4)
    found = findings(capture, "cold_start")
    assert [f.endpoints for f in found] == [("GET /answer",)]
    f = found[0]
    first = capture.requests[0]
    assert f.requests == (str(first.file),) and "first request" in f.summary.lower()
    texts = " ".join(e.text for e in f.evidence)
    assert "imports" in texts and "_train" in texts and "only in this request" in texts


def test_no_cold_start_when_loaded_at_start_up(tmp_path):
    capture = run_app(tmp_path / "c", _model_app(tmp_path, eager=True), ["/answer"] * 4)
    assert findings(capture, "cold_start") == []


def _hello_app():
    app = Flask(__name__)
    app.get("/hello")(lambda: "hello")
    return app


def test_debugger_in_the_request_path(tmp_path):
    from werkzeug.debug import DebuggedApplication
    capture = run_app(tmp_path, _hello_app(), ["/hello"] * 2, wrap=DebuggedApplication)
    found = findings(capture, "dev_server")
    assert [f.severity for f in found] == ["high"]
    assert any(e.func and "werkzeug/debug" in e.func[0].replace("\\", "/")
               for e in found[0].evidence)
    assert len(found[0].requests) == 2


def test_no_debugger_without_debug_mode(tmp_path):
    assert findings(run_app(tmp_path, _hello_app(), ["/hello"] * 2), "dev_server") == []


def _session_app():
    app = Flask(__name__)
    app.secret_key = "test"

    @app.get("/cart")
    def cart():
        session["items"] = [{"id": i, "tags": ("a", i), "price": i / 3} for i in range(1500)]
        return "ok"

    @app.get("/login")
    def login():
        session["user"] = 1
        return "ok"
    return app


@pytest.mark.filterwarnings("ignore:The 'session' cookie is too large")
def test_large_session_serialisation(tmp_path):
    capture = run_app(tmp_path, _session_app(), ["/cart"] * 2)
    found = by_endpoint(findings(capture, "session_serialisation"))
    assert set(found) == {"GET /cart"}
    assert {e.func[2] for e in found["GET /cart"].evidence} == {"open_session", "save_session"}


@pytest.mark.filterwarnings("ignore:The 'session' cookie is too large")
def test_a_large_session_costs_every_request_that_carries_it(tmp_path):
    # The test client keeps the cookie: /login then loads (and saves) the big session too.
    capture = run_app(tmp_path, _session_app(), ["/cart", "/login", "/login"])
    found = by_endpoint(findings(capture, "session_serialisation"))
    assert set(found) == {"GET /cart", "GET /login"}


def test_small_session_is_no_finding(tmp_path):
    capture = run_app(tmp_path, _session_app(), ["/login"] * 3)
    assert findings(capture, "session_serialisation") == []
