"""The notebooks are committed executed, so that a reader sees every output without running anything."""

import json

import pytest

from tools.export import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_lessons_are_there_in_order():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_", "06_", "07_", "08_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed_in_order_without_errors(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1)), "run `make notebooks`"
    assert not [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert any(c["outputs"] for c in cells)


def test_notebooks_stay_small():
    assert sum(p.stat().st_size for p in NOTEBOOKS) < 5_000_000, "keep figures small (JPEG, modest sizes)"
