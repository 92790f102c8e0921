"""Per-function changes between two captures: each function's self and total time per
request, tested request by request (Mann–Whitney, Benjamini–Hochberg across the functions of
an endpoint), and the differential flame graph's colours.  No Qt, no file access: the
per-request times come in as matrices (``loading.reread``)."""
from __future__ import annotations

from ..model.callgraph import format_func
from .significance import ALPHA, mann_whitney_rows
from .stats import bh_adjust


def _per_request(functions: dict, n: int) -> dict:
    return {k: (s.tottime / n, s.cumtime / n, s.ncalls / n) for k, s in functions.items()}


def function_tests(keys, matrices) -> dict:
    """``{key: (p self, q self, p total, q total)}``: Mann–Whitney of each function's self and
    total time per request, one value per request profile (0 where the function did not
    run), with Benjamini–Hochberg q-values across the functions of the endpoint.  Functions
    that could not reach p ≤ ALPHA whatever the split are left out of the family (q None).
    *matrices*: both sides' ``(2, len(keys), requests)`` arrays of self and total time
    (``loading.reread.request_matrix``)."""
    keys = list(keys)
    if not keys or matrices is None:
        return {}
    mb, ma = matrices
    if not mb.shape[2] or not ma.shape[2]:
        return {}
    out = {k: [None, None, None, None] for k in keys}
    # self and total time rows in one call: the tests are row by row, and scipy's fixed
    # cost per call was a third of the comparison
    n = len(keys)
    p_both, low_both = mann_whitney_rows(mb[:2].reshape(2 * n, -1), ma[:2].reshape(2 * n, -1))
    for col in (0, 1):
        p, low = p_both[col * n:(col + 1) * n], low_both[col * n:(col + 1) * n]
        family = [float(pi) if lo <= ALPHA else None for pi, lo in zip(p, low)]
        for k, pi, qi in zip(keys, p.tolist(), bh_adjust(family)):
            out[k][2 * col], out[k][2 * col + 1] = pi, qi
    return {k: tuple(v) for k, v in out.items()}


def function_keys(before_ep, after_ep) -> list:
    """Every function of the endpoint on either side, in a stable order."""
    keys = set(before_ep.functions if before_ep else ()) | set(
        after_ep.functions if after_ep else ())
    return sorted(keys, key=_text_key)


def _text_key(key) -> tuple:
    # the order of ``tuple(map(str, key))``: keys are (str, int, str) once validated
    return key[0], str(key[1]), key[2]


def function_deltas(before_ep, after_ep, top: int = 10, alpha: float = ALPHA,
                    matrices=None) -> list:
    """Functions of an endpoint before and after, per request: the significant changes of
    self time first, then the rest, each by largest |Δ self|.

    With *tests*, each row has ``p_value``/``q_value``/``significant`` (self time) and
    ``total_q_value``/``total_significant`` (total time); *top* keeps every significant row
    and the *top* largest of the others (0: all rows).
    """
    b = _per_request(before_ep.functions, len(before_ep.requests)) if before_ep else {}
    a = _per_request(after_ep.functions, len(after_ep.requests)) if after_ep else {}
    keys = function_keys(before_ep, after_ep)
    tested = function_tests(keys, matrices) if b and a else {}
    rows = []
    for key in keys:
        bt, bc, bn = b.get(key, (0.0, 0.0, 0.0))
        at, ac, an = a.get(key, (0.0, 0.0, 0.0))
        p, q, _pt, qt = tested.get(key, (None, None, None, None))
        rows.append({"function": format_func(key), "key": key,
                     "before_s_per_request": bt, "after_s_per_request": at,
                     "before_total_s": bc, "after_total_s": ac,
                     "calls_delta": an - bn,
                     "status": "new" if key not in b else "gone" if key not in a else "",
                     "p_value": p, "q_value": q,
                     "significant": q is not None and q < alpha and at != bt,
                     "total_q_value": qt,
                     "total_significant": qt is not None and qt < alpha and ac != bc})
    rows.sort(key=lambda r: (not r["significant"],
                             -abs(r["after_s_per_request"] - r["before_s_per_request"]),
                             r["function"]))
    if not top:
        return rows
    sig = [r for r in rows if r["significant"]]
    return sig + [r for r in rows if not r["significant"]][:top]


def node_deltas(tree, before_graph, after_graph) -> "list":
    """Per frame of *tree*: Δ of its function's total time per request (after − before), s.

    Frames are sized by one capture; the colour says how the function's time changed between
    the two, normalised per request so that captures of different sizes compare.
    """
    nb, na = max(1, before_graph.requests), max(1, after_graph.requests)
    out = []
    for func in tree.funcs:
        if func is None:
            out.append(0.0)
            continue
        b = before_graph.functions.get(func)
        a = after_graph.functions.get(func)
        out.append((a.cumtime / na if a else 0.0) - (b.cumtime / nb if b else 0.0))
    return out


def node_significance(tree, significant_keys) -> list:
    """Per frame of *tree*: whether its function's change is significant (a key in
    *significant_keys*, e.g. the ``total_significant`` rows of ``function_deltas``)."""
    keys = set(significant_keys)
    return [func is not None and func in keys for func in tree.funcs]
