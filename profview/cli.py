"""Command line: ``profview [PATH...]`` opens the window; ``profview report PATH...`` prints.

The report path never imports Qt: it runs on servers and in CI without a display or PySide6.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import __version__


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
    return parser


def report_main(argv: list) -> int:
    """``profview report``: exit 0 when anything loaded, 2 when nothing could."""
    args = _report_parser().parse_args(argv)
    from .analysis import report
    from .analysis.scan import load_capture

    capture = load_capture(args.paths, grouping=args.group, workers=args.jobs)
    result = report.build(capture)
    if args.json:
        json.dump(result, sys.stdout, indent=1, allow_nan=False, default=str)
        sys.stdout.write("\n")
    else:
        print(report.render_text(result))
    return 0 if capture.requests else 2


def gui_main(argv: list) -> int:
    """Open the window (needs PySide6 and a display, or QT_QPA_PLATFORM=offscreen)."""
    if argv[:1] == ["--version"]:
        print("profview " + __version__)
        return 0
    try:
        from .qt import app  # the window lives in profview.qt; imported only here
    except ImportError as exc:
        print("profview: the window cannot start here (%s).\n"
              "Use 'profview report PATH...' for the summary in the terminal." % exc,
              file=sys.stderr)
        return 1
    return app.main(argv)


def main(argv: list | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "report":
        return report_main(argv[1:])
    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
