"""Where a function's code lives: the application, an installed package, the standard library,
or the interpreter itself.

Profiles come from other machines (Windows drive letters and backslashes, other Python
versions, virtualenvs anywhere), so this looks at the shape of the path, not at this machine.
"""
from __future__ import annotations

import re
import sysconfig
from functools import lru_cache

APP, PACKAGE, STDLIB, BUILTIN = "app", "package", "stdlib", "builtin"

_PACKAGE_DIR = re.compile(r"[/\\](?:site|dist)-packages[/\\]([^/\\]+)", re.IGNORECASE)
# .../lib/python3.11/..., ...\Python313\Lib\..., ...\lib\python3.13\...
_STDLIB_DIR = re.compile(
    r"(?:[/\\]lib(?:64)?[/\\]python\d+(?:\.\d+)?t?[/\\])|(?:[/\\]python\d*[^/\\]*[/\\]lib[/\\])",
    re.IGNORECASE)


_EMBEDDED = ("shibokensupport/", "shibokensupport\\", "signature_bootstrap")


def _local_stdlib() -> tuple:
    paths = {sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib")}
    return tuple(sorted(p for p in paths if p))


_LOCAL_STDLIB = _local_stdlib()


@lru_cache(maxsize=65536)
def classify(filename: str) -> tuple:
    """``(kind, package)`` for a pstats file name; package is set for installed packages.

    >>> classify("/srv/venv/lib/python3.11/site-packages/flask/app.py")
    ('package', 'flask')
    >>> classify("~")
    ('builtin', None)
    """
    if filename == "~" or filename == "":
        return BUILTIN, None
    if filename.startswith("<"):
        # <frozen importlib._bootstrap>, <string>, <built-in>: not code a user wrote in a file
        return (STDLIB if filename.startswith("<frozen") else BUILTIN), None
    if filename.startswith(_EMBEDDED):
        # Code a package ships inside its binary, named by a relative path: PySide6's
        # import hook (shibokensupport/feature.py) runs inside every import of a process
        # that loaded Qt, and is not the application's.
        return PACKAGE, filename.split("/")[0]
    match = _PACKAGE_DIR.search(filename)
    if match:
        package = match.group(1)
        if package.endswith(".py"):
            package = package[:-3]
        return PACKAGE, package.split(".")[0]
    if _STDLIB_DIR.search(filename) or filename.startswith(_LOCAL_STDLIB):
        return STDLIB, None
    return APP, None


def is_app(filename: str) -> bool:
    """True when the file is the application's own code."""
    return classify(filename)[0] == APP


def is_flask_dispatch(key: tuple) -> bool:
    """True for ``flask.app.Flask.dispatch_request``, the caller of every Flask view."""
    filename, _line, name = key
    return (name == "dispatch_request"
            and (filename.endswith("flask/app.py") or filename.endswith("flask\\app.py")))


def short_path(filename: str, limit: int = 60) -> str:
    """A path for display: from the package or last two components, shortened if absurd."""
    match = _PACKAGE_DIR.search(filename)
    if match:
        filename = filename[match.start(1):]
    else:
        parts = re.split(r"[/\\]", filename)
        filename = "/".join(parts[-2:]) if len(parts) > 2 else filename
    return shorten(filename, limit)


def shorten(text: str, limit: int = 120) -> str:
    """Cut absurdly long names (a 1 MB function name loads, but is shown cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"



_TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".xml", ".txt", ".svg")
_TEMPLATE_FUNCS = {"root": "", "<module>": "load", "macro": "macro"}


def template_label(key) -> str | None:
    """``"user.html › block content"`` for a frame of a compiled Jinja template, else None.

    Jinja compiles a template to a Python module whose code objects keep the template's
    file name: ``root`` renders the page, ``block_<name>`` a block, ``macro`` a macro and
    ``<module>`` runs when the template is loaded.  Their own names say nothing to a user."""
    filename, _line, name = key
    if name not in _TEMPLATE_FUNCS and not name.startswith("block_"):
        return None
    norm = filename.replace("\\", "/")
    if not (norm.lower().endswith(_TEMPLATE_SUFFIXES) or norm == "<template>"):
        return None
    at = norm.rfind("/templates/")
    template = norm[at + len("/templates/"):] if at >= 0 else norm.rpartition("/")[2]
    part = ("block " + name[len("block_"):]) if name.startswith("block_") else \
        _TEMPLATE_FUNCS[name]
    return template + (" › " + part if part else "")
