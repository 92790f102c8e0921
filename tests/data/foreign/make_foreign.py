"""Regenerate the other profilers' files the importer tests read: the demo app of
``sample_profiles/`` profiled by py-spy (speedscope JSON and raw folded stacks, the whole
process) and by pyinstrument (one saved session per request, its Flask recipe, and the json
renderer's tree for one request); and ``server/``: one pyinstrument session over all the
traffic beside profview.capture's ``requests.jsonl`` and ``queries.jsonl`` (no profiles),
which profview cuts into its requests.

    python tests/data/foreign/make_foreign.py      # needs py-spy, pyinstrument, flask-sqlalchemy

This machine's directories are rewritten to neutral ones, as ``make_samples.py`` does.
"""
from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent.parent.parent / "sample_profiles"

PYSPY_TARGET = """
import sys
sys.path[:0] = [%r]
from demo_app import create_app
import make_samples
app = create_app()
make_samples._send(app, make_samples.traffic()[:12])
"""


def pyinstrument_sessions(out: Path) -> None:
    sys.path[:0] = [str(SAMPLES)]
    from demo_app import create_app
    import make_samples
    from flask import g, request
    from pyinstrument import Profiler
    from pyinstrument.renderers import JSONRenderer

    app = create_app()
    done = set()

    @app.before_request
    def _start():
        g.profiler = Profiler(interval=0.001)
        g.profiler.start()

    @app.after_request
    def _stop(response):
        session = g.profiler.stop()
        safe = request.path.strip("/").replace("/", ".") or "root"
        stem = "%s.%s.%.0fms.%.0f.%d" % (request.method, safe, session.duration * 1000,
                                         time.time(), len(done))
        done.add(stem)
        session.save(out / (stem + ".pyisession"))
        if safe == "my_class" and not (out / "my_class.pyinstrument.json").exists():
            (out / "my_class.pyinstrument.json").write_text(JSONRenderer().render(session))
        return response

    make_samples._send(app, make_samples.traffic()[:12])


def whole_process_session(out: Path) -> None:
    """One pyinstrument session over all the traffic (a server's whole life), beside
    profview.capture's lines of the same requests without profiles (``profile=False``)."""
    sys.path[:0] = [str(SAMPLES)]
    from demo_app import create_app
    import make_samples
    from pyinstrument import Profiler

    from profview.capture import init_app

    out.mkdir()
    app = create_app()
    init_app(app, out, profile=False)
    profiler = Profiler(interval=0.001)
    profiler.start()
    make_samples._send(app, make_samples.traffic()[:10], pause=0.05)
    profiler.stop().save(out / "server.pyisession")


def pyspy(out: Path) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(PYSPY_TARGET % str(SAMPLES))
    for fmt, name in (("speedscope", "demo.speedscope.json"), ("raw", "demo.folded")):
        subprocess.run(["py-spy", "record", "--rate", "200", "--format", fmt, "-o",
                        str(out / name), "--", sys.executable, script.name], check=True)


def neutralise(out: Path) -> None:
    version = "python%d.%d" % sys.version_info[:2]
    pairs = [(p, "/srv/school/.venv/lib/%s/site-packages" % version)
             for p in site.getsitepackages()]
    pairs += [(sysconfig.get_paths()[k], "/usr/lib/" + version) for k in ("stdlib", "platstdlib")]
    root = SAMPLES.parent
    pairs += [(str(root / "profview"), "/srv/school/.venv/lib/%s/site-packages/profview"
               % version), (str(root), "/srv/school")]
    pairs += [(str(SAMPLES), "/srv/school"), (sys.prefix, "/srv/school/.venv"),
              (sys.base_prefix, "/usr"), (tempfile.gettempdir(), "/srv/school")]
    lines = out / "server" / "requests.jsonl"
    records = [json.loads(x) for x in lines.read_text().splitlines()]
    for r in records:
        r["host"] = "school-demo"          # not the name of the machine that made them
    lines.write_text("".join(json.dumps(r) + "\n" for r in records))
    for path in list(out.iterdir()) + list((out / "server").iterdir()):
        if path.suffix == ".py" or path.is_dir():
            continue
        text = path.read_text()
        for old, new in sorted(pairs, key=lambda kv: -len(kv[0])):
            text = text.replace(old, new).replace(json.dumps(old)[1:-1], new)
        path.write_text(text)


def main() -> int:
    for old in HERE.iterdir():
        if old.is_dir():
            shutil.rmtree(old)
        elif old.suffix != ".py":
            old.unlink()
    pyinstrument_sessions(HERE)
    whole_process_session(HERE / "server")
    pyspy(HERE)
    neutralise(HERE)
    for path in sorted(HERE.rglob("*")):
        print("%8d  %s" % (path.stat().st_size, path.relative_to(HERE)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
