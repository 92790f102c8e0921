"""Following a capture directory that is being written to: watch it, and load what appears
(View › Follow new profiles)."""
from __future__ import annotations

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer

from ..app import pipeline
from ..loading.scan import stat_stamp
from .workers import Task


class LiveFollow(QObject):
    """Watches the window's directories and logs, and extends its capture when they change
    (debounced 0.5 s) or every 2 s (partial files, disks that do not notify).  New requests
    go to ``window._on_live_capture``; ``reloading`` is True while they are being shown."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.reloading = False
        self._stamp = None        # the watched paths' stat() at the last live reload
        self._pending = False     # that reload left partial files to read again
        self._extending = False
        self._stopped = False
        self.watcher = QFileSystemWatcher(self)
        self._debounce = QTimer(self, singleShot=True, interval=500)
        self._retry = QTimer(self, interval=2000)
        self.watcher.directoryChanged.connect(self._on_disk_changed)
        self.watcher.fileChanged.connect(self._on_disk_changed)
        self._debounce.timeout.connect(self.extend)
        self._retry.timeout.connect(self.extend)

    def watch(self) -> None:
        """Follow the opened directories (listed by the loader, or else in a worker: walking
        10,000 files took 30 ms of the GUI thread)."""
        watch = self.window.session.derived.watch
        if watch is not None:
            self._on_watch_list(watch)
            return
        Task(pipeline.watch_list, list(self.window.paths)).start(
            on_done=self._on_watch_list, owner=self.window)

    def stop(self) -> None:
        """No more reloads (the window is closing)."""
        self._stopped = True
        self._retry.stop()
        self._debounce.stop()

    def _on_watch_list(self, paths) -> None:
        if self._stopped:
            return
        old = self.watcher.directories() + self.watcher.files()
        if old:
            self.watcher.removePaths(old)
        if paths:
            self.watcher.addPaths(paths)
        self._stamp = None        # look once more at the next poll
        self._retry.start()

    def _on_disk_changed(self, _path) -> None:
        if self.window.follow.isChecked():
            self._debounce.start()

    def extend(self) -> None:
        """Load what appeared on disk since the last look, in a worker."""
        w = self.window
        if (not w.follow.isChecked() or self._extending or w.session.capture is None
                or w._awaiting_picture):
            return
        # The 2 s poll first compares the watched directories' and logs' stat() with the last
        # look: listing 10,000 profiles to find nothing new cost 0.2 s of CPU each time.
        stamp = stat_stamp(self.watcher.directories() + self.watcher.files() + w.paths)
        if stamp == self._stamp and not self._pending:
            return
        self._extending = True
        Task(pipeline.extend_grouped, w.session.capture, w.paths, w.max_bytes).start(
            on_done=lambda result: self._on_extended(result, stamp),
            on_failed=self._on_failed, owner=w)

    def _on_failed(self, _message: str) -> None:
        self._extending = False

    def _on_extended(self, result, stamp=None) -> None:
        self._extending = False
        capture, retry, endpoints, derived = result
        self._stamp, self._pending = stamp, bool(retry)   # partial files: look again
        old = self.window.session.capture
        if old is None or (len(capture.requests) == len(old.requests)
                           and len(capture.problems) == len(old.problems)
                           and len(capture.queries) == len(old.queries)):
            return
        self.reloading = True
        try:
            self.window._on_live_capture(capture, endpoints, derived,
                                         len(capture.requests) - len(old.requests))
        finally:
            self.reloading = False
        self.watch()
