"""Helpers that make real profiles for the tests: cProfile runs and Flask captures."""
from __future__ import annotations

import cProfile
import itertools
import sys
import textwrap
from pathlib import Path

_counter = itertools.count()


def profile_call(path: Path, func, *args) -> Path:
    """Run *func* under cProfile and write the stats to *path*, as Werkzeug does."""
    prof = cProfile.Profile()
    prof.runcall(func, *args)
    path.parent.mkdir(parents=True, exist_ok=True)
    prof.dump_stats(str(path))
    return path


def unique_default_names(environ) -> str:
    """Werkzeug's default name shape, with a distinct time so quick requests never collide."""
    info = environ["werkzeug.profiler"]
    path = environ["PATH_INFO"].strip("/").replace("/", ".") or "root"
    return "%s.%s.%.0fms.%d.prof" % (environ["REQUEST_METHOD"], path, info["elapsed"],
                                      1795300000 + next(_counter))


def write_modules(root: Path, files: dict) -> None:
    """Write ``{relative path: source}`` under *root* (dedented)."""
    for rel, source in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source))


def capture_flask(out_dir: Path, app, requests) -> list:
    """Send *requests* ``[(method, path, headers)]`` through ProfilerMiddleware into out_dir."""
    from werkzeug.middleware.profiler import ProfilerMiddleware

    out_dir.mkdir(parents=True, exist_ok=True)
    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, stream=None, profile_dir=str(out_dir),
                                      filename_format=unique_default_names)
    client = app.test_client()
    statuses = []
    for method, path, headers in requests:
        statuses.append(client.open(path, method=method, headers=headers or {}).status_code)
    return statuses


def import_fresh(root: Path, module: str):
    """Import *module* from *root*, forgetting any earlier module of that name."""
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return __import__(module)
    finally:
        sys.path.remove(str(root))


def run_without(blocked: tuple, body: str, *args: str, timeout: int = 120):
    """Run *body* in a fresh interpreter where importing any of *blocked* fails."""
    import os
    import subprocess

    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in %r:\n"
            "            raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\n" % (tuple(blocked),)) + textwrap.dedent(body)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
