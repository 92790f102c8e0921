"""Capture ``sample_profiles/basic/``: real Werkzeug ProfilerMiddleware output of the demo app.

    python sample_profiles/make_samples.py [OUT_DIR]

Requests go through the app's WSGI stack (Flask's test client), wrapped in
``werkzeug.middleware.profiler.ProfilerMiddleware`` with its default file names.  Those names
round the time to whole seconds, so two requests to one path in the same second would overwrite
each other: each round sends every path once, then waits for the next second.

The profiles name source files by absolute path.  So that the committed samples read the same
whoever made them, the directories of this machine are rewritten to neutral ones
(``/srv/blog`` for the app, a virtualenv under it for packages, ``/usr/lib/pythonX.Y`` for the
standard library); nothing else in the files changes.
"""
from __future__ import annotations

import marshal
import shutil
import site
import sys
import sysconfig
import time
from pathlib import Path

from werkzeug.middleware.profiler import ProfilerMiddleware

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_app import USERS, create_app  # noqa: E402

ROUNDS = 6


def _plan(round_no: int) -> list:
    user = USERS[round_no % len(USERS)]
    return [
        ("GET", "/", None, {}),
        ("GET", "/user/" + user, None, {"X-User": user}),
        ("GET", "/user/" + USERS[(round_no + 3) % len(USERS)], None, {"X-User": user}),
        ("GET", "/settings", None, {"X-User": user}),
        ("GET", "/api/posts/%d" % (round_no * 7 + 1), None, {}),
        ("GET", "/search?q=cache+slow", None, {}),
        ("GET", "/report", None, {}),
        ("POST", "/login", {"username": user, "password": user + "-pw"}, {}),
    ]


def _neutral_prefixes() -> list:
    version = "python%d.%d" % sys.version_info[:2]
    pairs = [(p, "/srv/blog/.venv/lib/%s/site-packages" % version)
             for p in site.getsitepackages() + [site.getusersitepackages()]]
    pairs += [(sysconfig.get_paths()[k], "/usr/lib/" + version) for k in ("stdlib", "platstdlib")]
    pairs.append((str(Path(__file__).resolve().parent), "/srv/blog"))
    return sorted(pairs, key=lambda kv: -len(kv[0]))


def _rename(key: tuple, prefixes: list) -> tuple:
    for old, new in prefixes:
        if key[0].startswith(old):
            return (new + key[0][len(old):],) + key[1:]
    return key


def neutralise(path: Path) -> None:
    """Rewrite this machine's directories in one profile to the neutral ones."""
    prefixes = _neutral_prefixes()
    stats = marshal.loads(path.read_bytes())
    out = {}
    for key, (cc, nc, tt, ct, callers) in stats.items():
        out[_rename(key, prefixes)] = (
            cc, nc, tt, ct, {_rename(c, prefixes): v for c, v in callers.items()})
    path.write_bytes(marshal.dumps(out))


def main(out_dir: Path) -> int:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    app = create_app()
    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, stream=None, profile_dir=str(out_dir))
    client = app.test_client()
    sent = 0
    for round_no in range(ROUNDS):
        # Werkzeug rounds the end time to the nearest second: start each round just after a
        # half second, so a round (well under half a second) owns one rounded second.
        time.sleep(1.55 - (time.time() + 0.5) % 1.0 - 0.5)
        for method, path, form, headers in _plan(round_no):
            response = client.open(path, method=method, data=form, headers=headers)
            assert response.status_code < 500, (path, response.status_code)
            sent += 1
    files = sorted(out_dir.glob("*.prof"))
    for path in files:
        neutralise(path)
    print("%d requests, %d profiles in %s" % (sent, len(files), out_dir))
    return 0 if len(files) == sent else 1


if __name__ == "__main__":
    default = Path(__file__).resolve().parent / "basic"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
