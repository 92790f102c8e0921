"""Worker tasks deliver their results and then let go of everything they held."""
from __future__ import annotations

import gc
import weakref

from profview.qt.workers import Task, wait_all


class _Payload:
    pass


def test_tasks_release_arguments_results_and_callbacks(qtbot):
    held, got = [], []
    for _ in range(3):
        arg, captured = _Payload(), _Payload()
        held.append((weakref.ref(arg), weakref.ref(captured)))
        # the callback's closure holds *captured*, as the window's lambdas hold scopes
        Task(lambda a: a, arg).start(on_done=lambda r, c=captured: got.append(type(r)))
        del arg, captured
    assert wait_all(10_000)
    qtbot.waitUntil(lambda: len(got) == 3, timeout=10_000)
    gc.collect()
    assert got == [_Payload] * 3
    assert [(a() is None, c() is None) for a, c in held] == [(True, True)] * 3


def test_a_failure_is_delivered_and_released(qtbot):
    errors, captured = [], _Payload()
    ref = weakref.ref(captured)

    def boom():
        raise ValueError("no")

    Task(boom).start(on_failed=lambda m, c=captured: errors.append(m))
    del captured
    assert wait_all(10_000)
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    gc.collect()
    assert errors == ["ValueError: no"] and ref() is None
