"""The architecture holds: Qt only in profview/qt, each layer imports only those below it."""
from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "profview"
QT = {"PySide6", "shiboken6", "pyqtgraph"}
# A layer may import itself and the layers after it in this list, never those before.
ORDER = ["cli", "qt", "analysis", "importers", "model"]


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-node.level]
                yield ".".join(base + ((node.module,) if node.module else ()))
            else:
                yield node.module or ""


def _layer(module: str):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "profview" else None


def test_qt_is_imported_only_in_profview_qt():
    leaks = [(str(p.relative_to(PACKAGE)), m) for p in PACKAGE.rglob("*.py")
             if "qt" not in p.relative_to(PACKAGE).parts[:1]
             for m in _imports(p) if m.split(".")[0] in QT]
    assert leaks == []


def test_layers_import_downwards_only():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        own = path.relative_to(PACKAGE).parts[0]
        own = own[:-3] if own.endswith(".py") else own
        for module in _imports(path):
            target = _layer(module)
            if own == "capture" and target and target != "capture":
                wrong.append((own, module))   # the capture helper stands alone
            elif own in ORDER and target in ORDER and ORDER.index(target) < ORDER.index(own):
                wrong.append((own, module))
    assert wrong == []


def test_import_linter_contracts():
    if shutil.which("lint-imports") is None:
        pytest.skip("import-linter is not installed")
    result = subprocess.run(["lint-imports"], cwd=PACKAGE.parent, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
