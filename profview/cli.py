"""Command line: ``profview [PATH...]`` opens the window; ``profview report PATH...`` prints;
``profview export PATH... --speedscope|--callgrind|--folded|--parquet OUT`` writes.

The report path never imports Qt: it runs on servers and in CI without a display or PySide6.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import __version__
from .importers.pstats_file import megabytes


def _report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="profview report",
        description="Summarise a capture of request profiles per endpoint, in the terminal.")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help=".prof/.pstats files or directories (searched recursively)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (the contract described in the README)")
    parser.add_argument("--group", choices=("view", "path"), default="view",
                        help="group requests by view function (default) or by raw URL path")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="worker processes for parsing (default: one per core)")
    parser.add_argument("--max-size", type=megabytes, default=200, metavar="MB",
                        help="refuse profiles larger than this (default 200 MB)")
    parser.add_argument("--compare", nargs="+", metavar="AFTER",
                        help="compare PATH (before) with AFTER, endpoint by endpoint")
    parser.add_argument("--fail-on-regression", type=float, metavar="PCT",
                        help="with --compare: exit 1 if an endpoint is significantly slower "
                             "by more than PCT percent (a CI gate)")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="with --compare: the false discovery rate a verdict is held to: "
                             "Benjamini–Hochberg q-values across endpoints (and across "
                             "each endpoint's functions) below it (default 0.05)")
    parser.add_argument("--min-pct", type=float, default=5.0,
                        help="with --compare: smallest change of the median that counts, "
                             "in percent (default 5)")
    parser.add_argument("--min-ms", type=float, default=1.0,
                        help="with --compare: ... and in ms (default 1)")
    parser.add_argument("--threshold", action="append", default=[], metavar="NAME=VALUE",
                        help="change a findings threshold (repeatable; names in the README, "
                             "e.g. --threshold n_plus_one_min=10)")
    parser.add_argument("--html", metavar="FILE",
                        help="also write the report (or the comparison) as one self-contained "
                             "HTML page to FILE (never inside a PATH that is read)")
    return parser


def _html_target_error(args) -> str | None:
    """Why --html FILE may not be written, or None."""
    return _target_error("--html", args.html, list(args.paths) + list(args.compare or ()))


def _target_error(option: str, path: str, sources, directory: bool = False) -> str | None:
    """Why *path* may not be written, or None.  profview never writes into what it reads
    (the README promises it, and a live capture directory is being watched)."""
    from pathlib import Path

    target = Path(path).resolve()
    for source in sources:
        src = Path(source).resolve()
        if target == src or src in target.parents or directory and target in src.parents:
            return "%s %s is inside %s, which is being read; write it elsewhere" % (
                option, path, source)
    if target.is_dir() and not directory:
        return "%s %s is a directory" % (option, path)
    if directory and target.exists() and not target.is_dir():
        return "%s %s is not a directory" % (option, path)
    return None


EXPORTS = ("speedscope", "callgrind", "folded", "parquet")


def _export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="profview export",
        description="Write the profiles under PATH for other tools: a speedscope file, a "
                    "callgrind file (KCachegrind), folded stacks, or Parquet tables.")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="profiles (any format profview opens) or directories")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--speedscope", metavar="FILE", help="speedscope JSON, a profile per "
                      "request (exact stacks; pstats-only requests in exact mode)")
    what.add_argument("--callgrind", metavar="FILE", help="callgrind, from the summed pstats")
    what.add_argument("--folded", metavar="FILE", help="folded stacks (counts in µs)")
    what.add_argument("--parquet", metavar="DIR", help="requests, endpoints, functions and "
                      "queries tables, partitioned by date and host")
    parser.add_argument("--endpoint", metavar="NAME",
                        help="only this endpoint (its name as profview report prints it)")
    parser.add_argument("--host", default=None,
                        help="with --parquet: the host partition of every request (default: "
                             "each line's host in requests.jsonl, else unknown)")
    parser.add_argument("--group", choices=("view", "path"), default="view")
    parser.add_argument("--jobs", type=int, default=None, metavar="N")
    return parser


def export_main(argv: list) -> int:
    """``profview export``: exit 0 when written, 2 when nothing could be."""
    args = _export_parser().parse_args(argv)
    kind = next(k for k in EXPORTS if getattr(args, k))
    target = getattr(args, kind)
    error = _target_error("--" + kind, target, args.paths, directory=kind == "parquet")
    if error:
        print("profview: " + error, file=sys.stderr)
        return 2
    from .loading.scan import load_capture
    from .report import exports

    capture = load_capture(args.paths, grouping=args.group, workers=args.jobs)
    try:
        name, requests = exports.scope_requests(capture, args.endpoint)
    except exports.ScopeError as exc:
        print("profview: %s" % exc, file=sys.stderr)
        return 2
    for p in capture.problems:
        if p.kind != "untied":
            print("profview: %s: %s" % (p.path, p.message), file=sys.stderr)
    if not requests:
        print("profview: no request could be read: nothing written", file=sys.stderr)
        return 2
    if kind == "parquet":
        from .report import parquet

        written = parquet.write(capture, target, host=args.host, endpoint=args.endpoint)
        print("profview: wrote %s under %s" % (", ".join(
            "%d %s" % (n, t) for t, n in written.items()), target), file=sys.stderr)
        return 0
    text, problems = {"speedscope": exports.speedscope_text,
                      "callgrind": exports.callgrind_text,
                      "folded": exports.folded_text}[kind](requests)
    for p in problems:
        print("profview: %s: %s" % (p.path, p.message), file=sys.stderr)
    if text is None:
        print("profview: nothing could be exported", file=sys.stderr)
        return 2
    try:
        with open(target, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        print("profview: cannot write %s: %s" % (target, exc), file=sys.stderr)
        return 2
    print("profview: wrote %s (%s, %d request%s)" % (target, name, len(requests),
                                                   "" if len(requests) == 1 else "s"),
          file=sys.stderr)
    return 0


def _write_html(path: str, text: str) -> int:
    from .report.html_report import write

    try:
        write(path, text)
    except OSError as exc:
        print("profview: cannot write %s: %s" % (path, exc), file=sys.stderr)
        return 2
    print("profview: wrote %s" % path, file=sys.stderr)
    return 0


def report_main(argv: list) -> int:
    """``profview report``: exit 0 when anything loaded, 2 when nothing could."""
    parser = _report_parser()
    args = parser.parse_args(argv)
    from .analysis.findings import settings_from

    try:
        args.settings = settings_from(args.threshold)
    except ValueError as exc:
        parser.error(str(exc))
    if args.html:
        error = _html_target_error(args)
        if error:
            print("profview: " + error, file=sys.stderr)
            return 2
    from .report import build as report
    from .loading.pool import import_quietly
    from .loading.scan import load_capture

    max_bytes = int(args.max_size * 1024 * 1024)
    # What comes after the load is imported while the workers parse, on this thread (in a
    # thread of its own, a worker forked while it held an import lock hung for good)
    needed = "scipy.stats" if args.compare else "scipy.sparse.csgraph"
    capture = load_capture(args.paths, grouping=args.group, workers=args.jobs,
                           max_bytes=max_bytes, meanwhile=lambda: import_quietly(needed))
    if args.compare:
        return _compare_main(args, capture)
    result = report.build(capture, args.settings)
    if args.json:
        json.dump(report.json_ready(result), sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(report.render_text(result))
    if args.html:
        from .report.html_report import render_report

        if _write_html(args.html, render_report(result, capture, args.paths)):
            return 2
    return 0 if capture.requests else 2


def gui_main(argv: list) -> int:
    """Open the window (needs PySide6 and a display, or QT_QPA_PLATFORM=offscreen)."""
    if "--version" in argv:
        print("profview " + __version__)
        return 0
    if "--install-desktop" in argv:
        return _install_desktop()
    if not ({"-h", "--help", "--screenshot"} & set(argv)
            or any(a.startswith("--screenshot=") for a in argv)):
        from .desktop import no_screen_message, no_screen_reason

        # Qt aborts the process (SIGABRT) when it finds no display: say so first, in one line.
        reason = no_screen_reason()
        if reason:
            print(no_screen_message(reason), file=sys.stderr)
            return 2
    try:
        from .qt import app  # the window lives in profview.qt; imported only here
    except ImportError as exc:
        print("profview: the window cannot start here (%s).\n"
              "Use 'profview report PATH...' for the summary in the terminal." % exc,
              file=sys.stderr)
        return 1
    return app.main(argv)


def _install_desktop() -> int:
    """``profview --install-desktop``: the menu entry, icon and .prof file type, for this
    user."""
    from .desktop import install_desktop_entry

    try:
        written = install_desktop_entry()
    except OSError as exc:
        print("profview: cannot install the desktop entry: %s" % exc, file=sys.stderr)
        return 2
    for path in written:
        print("installed %s" % path)
    return 0


def _compare_main(args, before) -> int:
    from .analysis import compare
    from .app.comparison import compare as compare_captures
    from .report import build as report
    from .report.compare_text import render_compare
    from .loading.scan import load_capture

    after = load_capture(args.compare, grouping=args.group, workers=args.jobs,
                         max_bytes=int(args.max_size * 1024 * 1024))
    result = compare_captures(before, after, args.alpha, args.min_pct, args.min_ms)
    if args.json:
        json.dump(report.json_ready(result), sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(render_compare(result))
    if args.html:
        from .report.html_report import render_comparison

        # The findings of the after capture are what is left to fix; the before ones tell
        # which the change resolved.
        page = render_comparison(result, before, after, args.paths, args.compare,
                                 findings=report.findings_of(after, args.settings),
                                 findings_before=report.findings_of(before, args.settings))
        if _write_html(args.html, page):
            return 2
    if not before.requests or not after.requests:
        return 2
    if args.fail_on_regression is not None and compare.regressions(
            result, args.fail_on_regression):
        return 1
    return 0


def main(argv: list | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("report", "export"):
        try:
            return (report_main if argv[0] == "report" else export_main)(argv[1:])
        except BrokenPipeError:
            # `profview report ... | head`: the reader left; say nothing more, as cat does
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
