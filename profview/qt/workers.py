"""Run slow work (loading, merging, tree building) off the GUI thread."""
from __future__ import annotations

import traceback

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from shiboken6 import isValid


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)
    progress = Signal(int, int)


class Task(QRunnable):
    """``fn(*args, progress=..., **kwargs)`` in the thread pool; results come back as Qt
    signals, delivered on the GUI thread.  Pass ``with_progress=False`` for functions that
    take no progress callback."""

    _running: set = set()   # keep tasks (and their signal objects) alive until they finish

    def __init__(self, fn, *args, with_progress: bool = False, **kwargs):
        super().__init__()
        self.setAutoDelete(False)
        self.signals = _Signals()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        if with_progress:
            self._kwargs["progress"] = self.signals.progress.emit

    def run(self) -> None:
        try:
            try:
                result = self._fn(*self._args, **self._kwargs)
            except Exception as exc:  # shown in the status bar and the Problems panel
                traceback.print_exc()
                self.signals.failed.emit("%s: %s" % (type(exc).__name__, exc))
            else:
                self.signals.done.emit(result)
        except RuntimeError:
            pass  # the window closed while this ran: nobody is left to tell
        finally:
            # QThreadPool.start hands the runnable to C++, and PySide then keeps the Python
            # object alive for good: drop what it holds, or every capture, scope and result a
            # task ever saw stays in memory (measured: +15 MB per reload of 1,000 profiles).
            self._fn = self._args = self._kwargs = None
            Task._running.discard(self)

    def start(self, on_done=None, on_failed=None, on_progress=None, owner=None) -> "Task":
        """Run; the callbacks are called on the GUI thread, unless *owner* (the widget that
        asked) has been deleted by then: a closed window gets no late results."""
        def guarded(fn, last=False):
            def call(*args):
                try:
                    if owner is None or isValid(owner):
                        fn(*args)
                finally:
                    if last:
                        self._release()
            return call

        if on_done is not None:
            self.signals.done.connect(guarded(on_done, last=True))
        if on_failed is not None:
            self.signals.failed.connect(guarded(on_failed, last=True))
        if on_progress is not None:
            self.signals.progress.connect(guarded(on_progress))
        self._connected = (on_done is not None, on_failed is not None, on_progress is not None)
        Task._running.add(self)
        QThreadPool.globalInstance().start(self)
        return self


    def _release(self) -> None:
        """The result was delivered: let go of the callbacks (and what their closures hold)."""
        for signal, used in ((self.signals.done, self._connected[0]),
                             (self.signals.failed, self._connected[1]),
                             (self.signals.progress, self._connected[2])):
            if used:
                signal.disconnect()
        self._connected = (False, False, False)


def wait_all(msecs: int = 30000) -> bool:
    """Wait for every running task (tests and shutdown)."""
    return QThreadPool.globalInstance().waitForDone(msecs)


class Latest:
    """The "latest result only" guard of a panel: each ``next()`` starts a request that
    supersedes the earlier ones, and ``current(token)`` says whether a result that comes
    back from a worker still matters (the user may have clicked on since)."""

    def __init__(self):
        self._n = 0

    def next(self) -> int:
        self._n += 1
        return self._n

    def current(self, token: int) -> bool:
        return token == self._n
