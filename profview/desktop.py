"""The package's resources, the desktop entry, and whether there is a screen to open a window on.

Qt-free: the command line asks these questions before it imports Qt, because a Qt program
started without a usable display does not fail, it aborts the process (SIGABRT, with a hint
about X11 libraries that misleads when the real cause is that there is no display at all).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

PACKAGE = "profview.resources"
ICON = "profview.svg"
DESKTOP = "profview.desktop"
MIME = "profview-mime.xml"


def resource(name: str):
    """A Traversable for one of the package's resource files."""
    return resources.files(PACKAGE).joinpath(name)


def resource_path(name: str, stack: ExitStack) -> Path:
    """A file-system path to resource *name*, valid while *stack* is open."""
    return stack.enter_context(resources.as_file(resource(name)))


def no_screen_reason(environ=os.environ) -> str | None:
    """Why a window cannot be shown here, or None when it can (or we cannot tell).

    Only X11 and Wayland sessions are checked (macOS and Windows always have a screen).  An
    explicit QT_QPA_PLATFORM is the user's choice and is trusted.
    """
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    if environ.get("QT_QPA_PLATFORM") or environ.get("WAYLAND_DISPLAY"):
        return None
    display = environ.get("DISPLAY")
    if not display:
        return "no screen here (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    if not _x_display_answers(display):
        return "no screen here (the X display %r does not answer)" % display
    return None


def _x_display_answers(display: str) -> bool:
    """True when something listens where the X display *display* (``[host]:N[.S]``) lives."""
    host, sep, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not sep or not number.isdigit():
        return True   # a form we do not know: let Qt try
    host = host.split("/")[-1]   # "unix:0", "/tmp/launch-xyz/org.xquartz:0"
    if host in ("", "unix"):
        path = "/tmp/.X11-unix/X%s" % number
        for address in ("\0" + path, path):   # Linux servers listen on both
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1.0)
                try:
                    sock.connect(address)
                    return True
                except OSError:
                    continue
        if host == "unix":
            return False
        host = "localhost"
    try:
        with socket.create_connection((host, 6000 + int(number)), timeout=1.0):
            return True
    except OSError:
        return False


def no_screen_message(reason: str) -> str:
    """The one line ``profview PATH`` prints when there is no screen."""
    return ("profview: %s; use 'profview report PATH' for the summary in the terminal, or "
            "'profview PATH --screenshot out.png' to render the window to a file" % reason)


def data_home(environ=os.environ) -> Path:
    return Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def install_desktop_entry(home: Path | None = None, command: list | None = None) -> list:
    """Install the desktop entry, the icon and the pstats MIME type for the current user
    (under ``$XDG_DATA_HOME``); returns the paths written.

    The entry's ``Exec`` is this installation's own ``profview`` script, so an entry made
    from a virtual environment starts that environment's profview.
    """
    home = home or data_home()
    command = command or _own_command()
    entry = resource(DESKTOP).read_text(encoding="utf-8").replace(
        "Exec=profview ", "Exec=%s " % " ".join(_desktop_quote(a) for a in command), 1)
    targets = {
        home / "applications" / "profview.desktop": entry.encode("utf-8"),
        home / "icons" / "hicolor" / "scalable" / "apps" / ICON: resource(ICON).read_bytes(),
        home / "mime" / "packages" / "profview.xml": resource(MIME).read_bytes(),
    }
    for path, data in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # Refresh the desktop's caches when the tools are there; the files work without them
    # after the next log-in.
    for tool, arg in (("update-desktop-database", home / "applications"),
                      ("update-mime-database", home / "mime")):
        if shutil.which(tool):
            subprocess.run([tool, str(arg)], capture_output=True, check=False)
    return list(targets)


def _own_command() -> list:
    """How this installation of profview is started: the script beside this interpreter
    (a virtual environment's own), else the one on PATH, else ``python -m profview``."""
    beside = Path(sys.executable).with_name("profview")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    script = shutil.which("profview")
    return [script] if script else [sys.executable, "-m", "profview"]


def _desktop_quote(arg: str) -> str:
    """One argument of an Exec key, quoted when it must be (desktop entry specification:
    inside quotes, " ` $ \\ take a backslash, and the string escapes then double every
    backslash)."""
    if not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`%"):
        return arg
    inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return '"%s"' % inner.replace("\\", "\\\\").replace("%", "%%")
