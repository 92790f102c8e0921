"""Capture ``sample_profiles/basic/``: real Werkzeug ProfilerMiddleware output of the demo app.

    python sample_profiles/make_samples.py [OUT_DIR]

Requests go through the app's WSGI stack (Flask's test client), wrapped in
``werkzeug.middleware.profiler.ProfilerMiddleware`` with its default file names.  Those names
round the time to whole seconds, so two requests to one path in the same second would overwrite
each other: each round sends every path once, then waits for the next second.
"""
from __future__ import annotations

import shutil
import sys
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


def main(out_dir: Path) -> int:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    app = create_app()
    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, stream=None, profile_dir=str(out_dir))
    client = app.test_client()
    sent = 0
    for round_no in range(ROUNDS):
        for method, path, form, headers in _plan(round_no):
            response = client.open(path, method=method, data=form, headers=headers)
            assert response.status_code < 500, (path, response.status_code)
            sent += 1
        time.sleep(1.0 - time.time() % 1.0 + 0.01)  # next whole second: no name collisions
    files = sorted(out_dir.glob("*.prof"))
    print("%d requests, %d profiles in %s" % (sent, len(files), out_dir))
    return 0 if len(files) == sent else 1


if __name__ == "__main__":
    default = Path(__file__).resolve().parent / "basic"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
