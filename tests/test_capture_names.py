"""Hostile methods and paths never put a profile outside the capture directory.

Werkzeug's development server passes any request-line method to the app (``../../x``, an
absolute path), and the path is the client's too: before the fix, ``../../x / HTTP/1.0``
wrote ``../../x.root.…prof`` two directories up.
"""
from __future__ import annotations

import os

import pytest
from test_capture_support import lines, raw, serving

from profview.capture import CaptureMiddleware, profile_name
from profview.capture.store import OURS, UnsafeName, inside

# The capture helper on real servers: its own stage of .ci/run, on Python 3.11, 3.12 and
# 3.13 (python -m pytest -m capture), not part of the README's test command.
pytestmark = pytest.mark.capture

HOSTILE_METHODS = ["../../x", "/abs/olute", "..\\..\\x", "GE\x00T", "M" * 5000, "ÄÖ☃", "",
                   ".", "..", "get", "-X"]
HOSTILE_PATHS = ["/../../x", "/%2e%2e/x", "/a\x00b", "/" + "p" * 5000, "/café/☃", "\\..\\..\\w",
                 "", "/", "//", "/a/../../b", "/\udcff"]


@pytest.mark.parametrize("method", HOSTILE_METHODS)
@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_every_name_is_a_plain_entry_of_the_directory(tmp_path, method, path):
    name = profile_name(method, path, 12.3, 1795313503.4, "4f1c9a2b7d3e")
    assert OURS.match(name), name           # the fixed alphabet, Werkzeug's shape
    assert len(name.encode()) < 200
    assert inside(str(tmp_path), name) == os.path.join(os.path.realpath(tmp_path), name)


def test_names_keep_werkzeugs_shape_for_ordinary_requests():
    assert profile_name("GET", "/user/alice", 23.4, 1795313503.2, "4f1c9a2b7d3e") == \
        "GET.user.alice.23ms.1795313503.4f1c9a2b7d3e.prof"
    assert profile_name("POST", "/", 0.2, 1795313503.6, "00ff") == \
        "POST.root.0ms.1795313504.00ff.prof"


@pytest.mark.parametrize("name", ["../x.prof", "/etc/x.prof", "a/b.prof", "", ".", "..",
                                  "x\x00.prof", "..\\x" if os.altsep else "a/../b"])
def test_inside_refuses_anything_but_a_plain_name(tmp_path, name):
    with pytest.raises(UnsafeName):
        inside(str(tmp_path), name)


def test_inside_refuses_a_link_that_leads_out(tmp_path):
    (tmp_path / "cap").mkdir()
    (tmp_path / "cap" / "GET.root.1ms.1.abc.prof").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafeName):
        inside(str(tmp_path / "cap"), "GET.root.1ms.1.abc.prof")


def test_a_request_id_that_is_not_hex_is_refused():
    with pytest.raises(UnsafeName):
        profile_name("GET", "/", 1, 1, "../x")


def _files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _dirs, fs in os.walk(root) for f in fs)


def test_hostile_request_lines_through_the_real_server(tmp_path):
    from werkzeug.wrappers import Response

    capture = tmp_path / "a" / "b" / "cap"
    escaped = tmp_path / "escaped"            # where an absolute "method" would have written
    app = CaptureMiddleware(Response("hi"), capture)
    sent = [b"../../x / HTTP/1.0", str(escaped).encode() + b" / HTTP/1.0",
            b"..\\..\\y / HTTP/1.0", b"GE\x00T / HTTP/1.0", b"M" * 5000 + b" / HTTP/1.0",
            "ÄÖ☃".encode() + b" / HTTP/1.0", b"GET /../../../x HTTP/1.0",
            b"GET /%2e%2e/%2e%2e/%2e%2e/y HTTP/1.0", b"GET /..%2f..%2fz HTTP/1.0",
            b"GET /a%00b HTTP/1.0", b"GET /" + b"p" * 5000 + b" HTTP/1.0",
            b"GET /caf%C3%A9/\xe2\x98\x83 HTTP/1.0", b"GET /a\\..\\..\\w HTTP/1.0"]
    with serving(app) as port:
        answers = [raw(port, line + b"\r\n\r\n") for line in sent]
    assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers)   # the server took them all
    files = _files(tmp_path)
    assert all(f.startswith(os.path.join("a", "b", "cap") + os.sep) for f in files), files
    requests = lines(capture / "requests.jsonl")
    assert len(requests) == len(sent)
    assert sorted(r["profile"] for r in requests) == sorted(p.name for p in capture.glob("*.prof"))
    methods = {r["method"] for r in requests}   # the line keeps the method as it came
    assert {"../../x", str(escaped), "GE\x00T", "M" * 5000} <= methods
    assert "/a\x00b" in {r["path"] for r in requests}
