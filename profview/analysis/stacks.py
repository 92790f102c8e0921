"""Views of sampled stacks (``model.stacks.StackProfile``): exact flame trees, a request's
flame chart in time order, where it waited, and where its SQL statements ran.

A flame tree from pstats is rebuilt from caller→callee totals and must estimate where a
function with several callers spent its time (``calltree``).  Sampled stacks need no such
guess: every sample is a whole stack, so a node's time is the sum of the weights of the
samples under it (``StackProfile.weights``), recursion stays as it happened (A;B;A is a real
path), and no node is ESTIMATED, SHARED or SCALED.  What sampling does cost is resolution: a
call shorter than the interval may be missed or stand for a whole interval.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from ..model.stacks import StackProfile, TimeChart
from . import calltree
from .codeloc import PACKAGE, STDLIB, classify

MAX_SPANS = 2_000_000


class StackTree(NamedTuple):
    """``stack_tree``'s result: unpack it as ``tree, counts, self_counts``."""

    tree: calltree.CallTree      # what the flame view draws (seconds, mode "exact")
    counts: np.ndarray           # int64 per node: samples in the node (inclusive)
    self_counts: np.ndarray      # int64 per node: samples whose innermost frame it is


def _profiles(profiles) -> list:
    return [profiles] if isinstance(profiles, StackProfile) else list(profiles)


def stack_tree(profiles) -> StackTree:
    """The exact flame tree of one StackProfile or the sum of several (an endpoint, a time
    range): frames merged by FuncKey along the path (lines ignored), ``total`` and
    ``self_time`` in seconds from ``weights()``, flags all 0, ``mode == "exact"``.

    Node 0 holds all the sampled time; children are laid out biggest first, as
    ``flame._relayout`` lays out any tree, so ``start`` positions are right.
    """
    funcs, parents, selfs, self_counts = [None], [-1], [0.0], [0]
    child: dict = {}                     # (parent node, FuncKey) → node
    for prof in _profiles(profiles):
        n = prof.n_stacks
        if not len(prof) or not n:
            continue
        own_w = np.bincount(prof.sample_stack, weights=prof.weights(), minlength=n).tolist()
        own_c = np.bincount(prof.sample_stack, minlength=n).tolist()
        parent, frame, frames = prof.stack_parent.tolist(), prof.stack_frame.tolist(), \
            prof.frames
        # Stacks no sample reaches would be nodes of zero time: find the sampled ones
        # first (children have larger ids than their parents: one backward pass).
        reached = own_c[:]
        for sid in range(n - 1, -1, -1):
            if reached[sid] and parent[sid] >= 0:
                reached[parent[sid]] += reached[sid]
        node_of = [0] * n
        for sid in range(n):
            if not reached[sid]:
                continue
            p = parent[sid]
            key = (node_of[p] if p >= 0 else 0, frames[frame[sid]])
            node = child.get(key)
            if node is None:
                node = child[key] = len(funcs)
                funcs.append(key[1])
                parents.append(key[0])
                selfs.append(0.0)
                self_counts.append(0)
            node_of[sid] = node
            selfs[node] += own_w[sid]
            self_counts[node] += own_c[sid]
    totals, counts = selfs[:], self_counts[:]
    for i in range(len(funcs) - 1, 0, -1):   # a node is made after its parent
        totals[parents[i]] += totals[i]
        counts[parents[i]] += counts[i]
    order, depth, start = _layout(funcs, parents, totals)
    pos = np.empty(len(order), np.int64)
    pos[order] = np.arange(len(order))
    par = np.asarray(parents, np.int64)[order]
    tree = calltree.CallTree(
        tuple(funcs[i] for i in order),
        np.where(par < 0, -1, pos[np.maximum(par, 0)]).astype(np.int32),
        np.asarray(depth, np.int32)[order], np.asarray(totals, np.float64)[order],
        np.asarray(selfs, np.float64)[order], np.asarray(start, np.float64)[order],
        np.zeros(len(order), np.uint8), calltree.EXACT)
    return StackTree(tree, np.asarray(counts, np.int64)[order],
                     np.asarray(self_counts, np.int64)[order])


def _layout(funcs, parents, totals) -> tuple:
    """Pre-order, depth and x position of a tree given as parent links, children biggest
    first (ties by name): the order ``flame._relayout`` gives, with the order kept."""
    kids: list = [[] for _ in funcs]
    for i in range(1, len(funcs)):
        kids[parents[i]].append(i)
    order, depth, start = [], [0] * len(funcs), [0.0] * len(funcs)
    stack = [0]
    while stack:
        i = stack.pop()
        order.append(i)
        x = start[i]
        mine = sorted(kids[i], key=lambda k: (-totals[k], str(funcs[k])))
        for k in mine:
            start[k], depth[k] = x, depth[i] + 1
            x += totals[k]
        stack.extend(reversed(mine))
    return np.asarray(order, np.int64), depth, start


def folded(profiles) -> str:
    """The stacks as sorted folded lines ``A;B;C <ms>`` (self time in ms, lines of zero
    time left out), frames named as the flame view names them."""
    tree = stack_tree(profiles).tree
    labels = tree.labels()
    paths: list = [""] * len(tree)
    lines = []
    for i in range(1, len(tree)):
        p = int(tree.parent[i])
        paths[i] = labels[i] if p == 0 else paths[p] + ";" + labels[i]
        ms = tree.self_time[i] * 1000.0
        if ms > 1e-9:
            lines.append("%s %s" % (paths[i], ("%.3f" % ms).rstrip("0").rstrip(".")))
    return "\n".join(sorted(lines))


def time_order(profile: StackProfile, max_spans: int = MAX_SPANS) -> TimeChart:
    """The flame chart of one request: a span per run of consecutive samples that have
    the same function at a depth *and* the same ancestors at the same lines.

    The callers' lines count because a caller's line cannot change during a call: two
    samples of B under A at lines 10 and 12 are two calls of B, one span of A.  A sample
    lasts until the next one (the last until the end), as ``weights`` says.
    """
    cpar, cfid, cline, cdepth, canon = profile.canonical()
    depth, start, stop, frame, line = [], [], [], [], []
    opened: list = []        # span index per depth of the previous sample's path
    prev, cut = -1, None
    for t, sid in zip(profile.sample_t.tolist(), profile.sample_stack.tolist()):
        c = canon[sid]
        k = 0 if prev < 0 else _continuing(prev, c, cpar, cfid, cdepth)
        for s in opened[k:]:
            stop[s] = t
        del opened[k:]
        if len(depth) + cdepth[c] + 1 - k > max_spans:
            cut = t
            break
        new, x = [], c
        while x >= 0 and cdepth[x] >= k:
            new.append(x)
            x = cpar[x]
        for x in reversed(new):
            opened.append(len(depth))
            depth.append(cdepth[x])
            start.append(t)
            stop.append(t)
            frame.append(cfid[x])
            line.append(cline[x])
        prev = c
    if cut is not None or not len(profile):
        final = cut or 0.0
    else:    # the last sample lasts as long as its weight says
        final = float(profile.sample_t[-1] + profile.weights()[-1] * 1000.0)
    for s in opened:
        stop[s] = final
    order = np.lexsort((np.asarray(start), np.asarray(depth))) if depth else np.zeros(0, int)
    return TimeChart(profile.frames, np.asarray(depth, np.int32)[order],
                     np.asarray(start, np.float64)[order], np.asarray(stop, np.float64)[order],
                     np.asarray(frame, np.int32)[order], np.asarray(line, np.int32)[order], cut)


def _continuing(p: int, c: int, cpar, cfid, cdepth) -> int:
    """How many levels of path *c*, from the outermost, continue the spans of path *p*:
    the (function, line) pairs they share, plus the next level if its function is the
    same (it only moved on to another line)."""
    a, b, below_a, below_b = p, c, -1, -1
    while cdepth[a] > cdepth[b]:
        below_a, a = a, cpar[a]
    while cdepth[b] > cdepth[a]:
        below_b, b = b, cpar[b]
    while a != b:            # at one depth: both reach -1 together at worst
        below_a, below_b, a, b = a, b, cpar[a], cpar[b]
    shared = cdepth[a] + 1 if a >= 0 else 0
    if below_a >= 0 and below_b >= 0 and cfid[below_a] == cfid[below_b]:
        return shared + 1
    return shared


# Waiting, told by the innermost *Python* frame: sys._current_frames() sees no C frames, so a
# thread blocked in recv() shows socket.py's readinto, one in lock.acquire() threading.py's
# wait.  Only standard-library files count (an app's own socket.py does not), and
# time.sleep() called from Python is invisible (its caller is the innermost frame): "sleep"
# is only a frame that names it (other tools' files).  A stack under a database driver (or
# SQLAlchemy's do_execute) is the database's time, never a wait, whatever it waits in.
WAITS = {base: (kind, frozenset(names.split())) for base, kind, names in (
    ("socket.py", "socket", "readinto recv recv_into recvfrom recvfrom_into recvmsg send "
     "sendall sendto sendmsg sendfile _sendfile_use_send _sendfile_use_sendfile connect "
     "create_connection accept getaddrinfo"),
    ("ssl.py", "socket", "read recv recv_into recvfrom recvfrom_into write send sendall "
     "do_handshake connect _real_connect accept unwrap"),
    ("selectors.py", "select", "select"),
    ("subprocess.py", "select", "communicate _communicate wait _wait _try_wait"),
    ("threading.py", "lock", "wait wait_for acquire join _wait_for_tstate_lock"),
    ("queue.py", "lock", "get put join"))}
DB_DRIVERS = {"psycopg", "psycopg2", "psycopg2cffi", "pymysql", "MySQLdb", "mysql", "asyncpg",
              "pg8000", "oracledb", "cx_Oracle", "pymssql", "pyodbc", "sqlite3"}


class Gap(NamedTuple):
    """A stretch of a request (ms after its start) spent waiting, and on what."""

    start_ms: float
    end_ms: float
    kind: str           # "socket", "lock", "select" or "sleep"
    sid: int = -1       # the stack of its first sample (what was waiting, and from where)


def wait_kind(func) -> Optional[str]:
    """The kind of wait a frame of *func* (a FuncKey) is, innermost; None if it is none."""
    filename, _, name = func
    if filename == "~" or filename.startswith("<built-in"):
        return "sleep" if "sleep" in name else None
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    kind, names = WAITS.get(base, (None, ()))
    return kind if name in names and classify(filename)[0] == STDLIB else None


def _is_db(func) -> bool:
    where = classify(func[0])
    return (where[0] == PACKAGE and where[1] in DB_DRIVERS) or (
        where[0] == STDLIB and "/sqlite3/" in func[0].replace("\\", "/")) or (
        func[2].startswith("do_execute") and where == (PACKAGE, "sqlalchemy"))


def gaps(profile: StackProfile, min_ms: float = 0.0) -> list:
    """``[Gap]``: runs of consecutive samples whose innermost frame waits the same way
    (``wait_kind``, outside the database), each until the sample after it, of at least
    *min_ms*."""
    frames = profile.frames
    kinds, db = [], []
    for p, f in zip(profile.stack_parent.tolist(), profile.stack_frame.tolist()):
        db.append((p >= 0 and db[p]) or _is_db(frames[f]))
        kinds.append(None if db[-1] else wait_kind(frames[f]))
    ends = (profile.sample_t + profile.weights() * 1000.0).tolist()
    out, run = [], None
    for t, end, sid in zip(profile.sample_t.tolist(), ends, profile.sample_stack.tolist()):
        kind = kinds[sid]
        if run is not None and run[2] == kind:
            run[1] = end
            continue
        if run is not None and run[1] - run[0] >= min_ms:
            out.append(Gap(*run))
        run = [t, end, kind, sid] if kind is not None else None
    if run is not None and run[1] - run[0] >= min_ms:
        out.append(Gap(*run))
    return out


class SqlSpan(NamedTuple):
    """Where statement ``statement_index`` ran in its request (ms after the request's
    start), and the innermost stack of the first sample inside it (None: none fell in)."""

    statement_index: int
    start_ms: float
    end_ms: float
    sid: Optional[int]


def sql_spans(profile: StackProfile, queries) -> list:
    """``[SqlSpan]`` for the statements of *queries* (``model.query.Query`` or anything with
    ``start``, epoch s, and ``duration_ms``) that have both; indexes are into *queries*.

    The stack is the one sampled first while the statement ran: a sample inside it is what
    the thread was doing then.  A statement between two samples gets None rather than a guess
    from the sample before it (that stack may already have returned)."""
    out = []
    t, stacks = profile.sample_t, profile.sample_stack
    for i, q in enumerate(queries):
        start, duration = getattr(q, "start", None), getattr(q, "duration_ms", None)
        if start is None or duration is None:
            continue
        start_ms = (float(start) - profile.start) * 1000.0
        end_ms = start_ms + float(duration)
        j = int(np.searchsorted(t, start_ms, "left"))
        sid = int(stacks[j]) if j < len(t) and t[j] <= end_ms else None
        out.append(SqlSpan(i, start_ms, end_ms, sid))
    return out
