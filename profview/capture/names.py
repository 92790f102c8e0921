"""Profile file names built from a fixed alphabet, and a check that they stay in their directory.

A request controls its method and path, and Werkzeug's development server accepts any method
(``../../x``, ``/etc/x``): a name that kept them would write outside the capture directory.
So every part of a name is rebuilt from a short list of characters, and the joined path is
checked against the directory as a last line of defence.
"""
from __future__ import annotations

import os
import re

MAX_PATH_CHARS = 120       # file names stay well under the usual 255-byte limit
MAX_METHOD_CHARS = 16
# The method is the first dot-separated field of the name, so it holds no dot; readers of
# Werkzeug names expect it upper-case and starting with a letter.
_NOT_METHOD = re.compile(r"[^A-Z_-]")
_NOT_PATH = re.compile(r"[^A-Za-z0-9._-]")
_ID = re.compile(r"[0-9a-f]{1,32}")
# The profiles this package writes (and so may remove, under max_mb): nothing else.
OURS = re.compile(r"^[A-Z][A-Z_-]*\.[A-Za-z0-9._-]*\.\d+ms\.\d+\.[0-9a-f]{12}\.prof$")


class UnsafeName(ValueError):
    """A file name that would not land directly inside its directory."""


def clean_method(method: str) -> str:
    """*method* as the first field of a file name: ``A-Z``, ``_`` and ``-``, a letter first."""
    method = _NOT_METHOD.sub("_", str(method)[:MAX_METHOD_CHARS].upper())[:MAX_METHOD_CHARS]
    if not method or not "A" <= method[0] <= "Z":
        method = ("X" + method)[:MAX_METHOD_CHARS]
    return method


def clean_path(path_info: str) -> str:
    """Werkzeug's form of *path_info* (``/`` → ``.``, ``root`` when empty), other characters
    than ``A-Za-z0-9._-`` replaced by ``_``, cut at MAX_PATH_CHARS."""
    path = str(path_info)[: MAX_PATH_CHARS * 4].strip("/").replace("/", ".")
    return _NOT_PATH.sub("_", path)[:MAX_PATH_CHARS] or "root"


def profile_name(method: str, path_info: str, elapsed_ms: float, end: float,
                 request_id: str) -> str:
    """Werkzeug's default name with a request id before ``.prof``, from a fixed alphabet.

    ``profile_name("GET", "/user/alice", 23.4, 1795313503.2, "4f1c9a2b7d3e")`` is
    ``GET.user.alice.23ms.1795313503.4f1c9a2b7d3e.prof``.
    """
    if not _ID.fullmatch(request_id):
        raise UnsafeName("request id %r is not lower-case hex" % (request_id,))
    elapsed = max(0.0, float(elapsed_ms))
    end = max(0.0, float(end))
    return "%s.%s.%.0fms.%.0f.%s.prof" % (clean_method(method), clean_path(path_info),
                                          elapsed, end, request_id)


def inside(directory: str, name: str) -> str:
    """The path of *name* in *directory*; raises UnsafeName unless it is a plain entry of it.

    Both sides are resolved (symbolic links, ``..``), so a name can neither climb out nor
    reach elsewhere through a link.
    """
    if not name or name in (".", "..") or os.sep in name or (os.altsep and os.altsep in name) \
            or "\x00" in name:
        raise UnsafeName("not a plain file name: %r" % (name,))
    base = os.path.realpath(directory)
    path = os.path.realpath(os.path.join(base, name))
    if os.path.dirname(path) != base:
        raise UnsafeName("%r is not inside %r" % (name, base))
    return path


def wsgi_text(value: str) -> str:
    """WSGI strings are latin-1 decoded bytes (PEP 3333); give back the real text."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def exception_name(exc: BaseException) -> str:
    """``ValueError`` for built-ins, ``module.QualName`` for the rest."""
    cls = type(exc)
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", cls.__name__)
    return qualname if module in (None, "builtins") else "%s.%s" % (module, qualname)
