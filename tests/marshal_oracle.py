"""A long-lived child interpreter that says whether ``marshal.loads`` survives some bytes.

``marshal.loads`` of crafted bytes can kill CPython (a segmentation fault: see
``profview/analysis/preflight.py``).  The product never unmarshals a file in its own
process before a child has; the fuzz tests, which call the importer's ``parse`` directly
thousands of times, ask this oracle first (one child for the whole run, restarted when it
dies), so a crash ends one example, not the test run.
"""
from __future__ import annotations

import struct
import subprocess
import sys

_LOOP = r"""
import marshal, struct, sys
try:   # crafted container lengths: fail at once, as the product's loader does
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))
except Exception:
    pass
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(4)
    if len(head) < 4:
        break
    data = inp.read(struct.unpack("<I", head)[0])
    try:
        marshal.loads(data)
    except BaseException:
        pass
    out.write(b"."); out.flush()
"""


class MarshalOracle:
    def __init__(self):
        self._child = None

    def _start(self):
        self._child = subprocess.Popen([sys.executable, "-I", "-S", "-c", _LOOP],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL)

    def survives(self, data: bytes) -> bool:
        """True when a child's ``marshal.loads(data)`` returned or raised, False if it died."""
        if self._child is None or self._child.poll() is not None:
            self._start()
        try:
            self._child.stdin.write(struct.pack("<I", len(data)) + data)
            self._child.stdin.flush()
            ok = self._child.stdout.read(1) == b"."
        except (BrokenPipeError, OSError):
            ok = False
        if not ok:
            self._child.wait()
            self._child = None
        return ok


ORACLE = MarshalOracle()
