"""Helpers that make real profiles for the tests: cProfile runs and Flask captures.

Every profile here is timed by ``CLOCK``, a virtual clock, never by the wall clock: a test
that compared wall-clock milliseconds with a threshold failed whenever the machine was busy.
The *structure* of a profile (which functions ran, who called whom, how often) is real; its
*times* are known in advance:

- each reading of the clock advances it by one tick (1 µs), so a function's time follows
  the number of calls made below it, the same on every run;
- code that stands for expensive work says what it costs with ``CLOCK.ns += ...`` in its
  own body (an attribute update: no call the profiler would time), so the cost is that
  function's self time;
- a wait inside a built-in (``time.sleep``, a socket read, ``waitpid``) is given its cost
  after the run by ``charge``, which adds it to the built-in and to every caller above it.
"""
from __future__ import annotations

import cProfile
import itertools
import marshal
import re
import sys
import textwrap
import types
from contextlib import contextmanager
from pathlib import Path

_counter = itertools.count()
EPOCH = 1795300000          # werkzeug's time.time() under the virtual clock starts here
TICK_NS = 1000              # one clock reading: 1 µs


class VirtualClock:
    """A cProfile timer in integer nanoseconds (``timeunit=1e-9``) that moves only when read
    (one tick) or when code adds to ``ns``."""

    def __init__(self, tick_ns: int = TICK_NS):
        self.ns = 0
        self.tick_ns = tick_ns

    def __call__(self) -> int:
        self.ns += self.tick_ns
        return self.ns

    def time(self) -> float:
        """Seconds since the epoch, for code that asks ``time.time()``."""
        return EPOCH + self.ns / 1e9

    def profile(self) -> cProfile.Profile:
        return cProfile.Profile(timer=self, timeunit=1e-9)


CLOCK = VirtualClock()


@contextmanager
def virtual_time():
    """Werkzeug's ProfilerMiddleware timed by ``CLOCK``: its profiles and the elapsed
    milliseconds in its file names."""
    from werkzeug.middleware import profiler

    saved = profiler.Profile, profiler.time
    profiler.Profile = CLOCK.profile
    profiler.time = types.SimpleNamespace(time=CLOCK.time)
    try:
        yield CLOCK
    finally:
        profiler.Profile, profiler.time = saved


def profile_call(path: Path, func, *args) -> Path:
    """Run *func* under cProfile (timed by ``CLOCK``) and write the stats to *path*, as
    Werkzeug does."""
    prof = CLOCK.profile()
    prof.runcall(func, *args)
    path.parent.mkdir(parents=True, exist_ok=True)
    prof.dump_stats(str(path))
    return path


def unique_default_names(environ) -> str:
    """Werkzeug's default name shape, with a distinct time so quick requests never collide."""
    info = environ["werkzeug.profiler"]
    path = environ["PATH_INFO"].strip("/").replace("/", ".") or "root"
    return "%s.%s.%.0fms.%d.prof" % (environ["REQUEST_METHOD"], path, info["elapsed"],
                                      EPOCH + next(_counter))


def write_modules(root: Path, files: dict) -> None:
    """Write ``{relative path: source}`` under *root* (dedented)."""
    for rel, source in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source))


def capture_flask(out_dir: Path, app, requests, charges=None) -> list:
    """Send *requests* ``[(method, path, headers)]`` through ProfilerMiddleware into out_dir,
    timed by the virtual clock; then ``charge`` each built-in named in *charges*
    (``{fragment of its name: ms per call}``)."""
    from werkzeug.middleware.profiler import ProfilerMiddleware

    out_dir.mkdir(parents=True, exist_ok=True)
    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, stream=None, profile_dir=str(out_dir),
                                      filename_format=unique_default_names)
    client = app.test_client()
    statuses = []
    with virtual_time():
        for method, path, headers in requests:
            statuses.append(client.open(path, method=method, headers=headers or {}).status_code)
    for fragment, ms in (charges or {}).items():
        for prof in sorted(out_dir.glob("*.prof")):
            charge(prof, fragment, ms)
    return statuses


def charge(path: Path, fragment: str, ms_per_call: float) -> float:
    """Make every built-in whose name contains *fragment* take *ms_per_call* longer per call
    in the profile at *path*; rename the file with its new elapsed milliseconds.

    The time is added to the built-in's self time and, shared out by call counts, to the
    cumulative time of every caller up to the root, so the profile stays consistent (its
    total and each parent's cumulative time grow by the same amount).  Returns the ms added.
    """
    stats = marshal.loads(path.read_bytes())
    added = 0.0
    for key in [k for k in stats if k[0] == "~" and fragment in k[2]]:
        delta = stats[key][1] * ms_per_call / 1000.0
        _add_up(stats, key, delta, True, frozenset())
        added += 1000.0 * delta
    if added:
        path.write_bytes(marshal.dumps(stats))
        name = re.sub(r"\.(\d+)ms\.", lambda m: ".%dms." % round(int(m.group(1)) + added),
                      path.name, count=1)
        if name != path.name:
            path.rename(path.with_name(name))
    return added


def _add_up(stats, key, delta, own, seen) -> None:
    """Add *delta* seconds to *key*'s cumulative time (and self time when *own*), then to
    its callers', shared out by the calls on each edge; cycles are not followed."""
    cc, nc, tt, ct, callers = stats[key]
    stats[key] = (cc, nc, tt + (delta if own else 0.0), ct + delta, callers)
    seen = seen | {key}
    edges = [(c, e) for c, e in callers.items() if c not in seen and c in stats]
    calls = sum(e[0] for _c, e in edges)
    for caller, (enc, ecc, ett, ect) in edges:
        share = delta * enc / calls
        callers[caller] = (enc, ecc, ett + (share if own else 0.0), ect + share)
        _add_up(stats, caller, share, False, seen)


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
