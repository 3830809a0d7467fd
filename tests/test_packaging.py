"""environment.yml (for conda users) and pyproject.toml (for pip) list the same dependencies."""

import re

import pytest

from d2lstyle.export import ROOT

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
