"""What a user installs: the wheel has every module, the icon and the desktop entry; the
sdist has what its tests need; the installed window finds its icon; no screen, no abort."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Building the wheel and the sdist takes ~15 s: these run in their own stage of .ci/run
# (python3 -m pytest -m packaging), not in the README's test command.
packaging = pytest.mark.packaging


def _listed_packages() -> set:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11 and newer")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return set(tomllib.load(fh)["tool"]["setuptools"]["packages"])


def test_every_subpackage_is_listed_in_pyproject():
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "profview").rglob("*.py")}
    assert found | {"profview.resources"} == _listed_packages()


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """The sdist and the wheel, built from this checkout as ``python -m build`` does."""
    pytest.importorskip("build", reason="the 'build' package is in the test extra")
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir",
                           str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


@packaging
def test_wheel_holds_every_module_the_icon_and_the_license(dists):
    wheel, _sdist = dists
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "profview").rglob("*.py")}
    assert modules <= names
    for resource in ("profview.svg", "profview.desktop", "profview-mime.xml"):
        assert "profview/resources/" + resource in names
    # the HTML page's style sheet and script, which the page inlines
    assert {"profview/report/html/page.css", "profview/report/html/page.js"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "License-Expression: MIT" in text
    assert not any(n.startswith(("tests/", "sample_profiles/")) for n in names)


@packaging
def test_sdist_holds_what_its_tests_need(dists):
    _wheel, sdist = dists
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    needed = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")]
    needed += [str(p.relative_to(ROOT)) for p in (ROOT / "sample_profiles").rglob("*")
               if p.is_file()]
    needed += ["bench/trees.py", "LICENSE", "README.md", "resources/profview.svg"]
    assert set(needed) <= names


@packaging
def test_installed_wheel_window_has_its_icon(dists, tmp_path):
    """A new virtual environment with only the wheel of profview (its dependencies are
    borrowed from this one through a path entry), run away from the source tree."""
    wheel, _sdist = dists
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Only the directories themselves: their .pth files (this checkout's editable install)
    # are not processed, so `import profview` can only find the wheel.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "borrowed-deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, timeout=300,
                   capture_output=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY",
                                                             "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(tmp_path / "share"))
    check = ("from contextlib import ExitStack\n"
             "import profview\n"
             "from PySide6.QtWidgets import QApplication\n"
             "from profview.qt.app import window_icon\n"
             "app = QApplication([])\n"
             "stack = ExitStack()\n"
             "icon = window_icon(stack)\n"
             "print(profview.__file__)\n"
             "print(icon.isNull(), icon.pixmap(64, 64).isNull())\n")
    done = subprocess.run([str(python), "-c", check], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    where, nulls = done.stdout.split("\n")[:2]
    assert where.startswith(str(venv)) and nulls == "False False"
    done = subprocess.run([str(venv / "bin" / "profview"), "--install-desktop"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    entry = (tmp_path / "share" / "applications" / "profview.desktop").read_text()
    assert "Exec=%s %%F" % (venv / "bin" / "profview") in entry
    assert "MimeType=application/x-pstats;" in entry and "inode/directory" not in entry
    assert (tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps"
            / "profview.svg").read_bytes() == (ROOT / "resources" / "profview.svg").read_bytes()
    assert "*.prof" in (tmp_path / "share" / "mime" / "packages" / "profview.xml").read_text()


@pytest.mark.parametrize("display", [None, ":97"])
def test_no_screen_is_one_line_and_exit_2_never_an_abort(tmp_path, display, before):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                             "QT_QPA_PLATFORM")}
    if display:
        env["DISPLAY"] = display   # nothing listens there
    for path in (before, tmp_path / "no such directory"):
        done = subprocess.run([sys.executable, "-m", "profview", str(path)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (done.returncode, done.stderr)
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and "no screen" in lines[0]
        assert "profview report" in lines[0] and "--screenshot" in lines[0]
