"""The notebooks are committed executed, so that a reader sees every output without running anything."""

import json
import re

import pytest

from tools.export import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_lessons_are_there_in_order():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_", "06_", "07_", "08_", "09_", "A1_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed_in_order_without_errors(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1)), "run `make notebooks`"
    assert not [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert any(c["outputs"] for c in cells)


def test_notebooks_stay_small():
    assert sum(p.stat().st_size for p in NOTEBOOKS) < 5_000_000, "keep figures small (JPEG, modest sizes)"


LESSONS = [p for p in NOTEBOOKS if p.name[:2] in ("01", "02", "03", "04", "05", "06", "07")]


TERMS = re.compile(r"^\*\*Terms / 术语\.\*\*.*?(?:\n\n|\Z)", flags=re.S | re.M)  # a paragraph: English 中文 · ...


def prose_words(path) -> int:
    """Words of a notebook's markdown cells, code blocks and the terms paragraph left out (tables, formulas and
    references count)."""
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return len(TERMS.sub("", re.sub(r"```.*?```", "", text, flags=re.S)).split())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_first_cell_lists_the_terms_in_english_and_chinese(path):
    """Issue 37: each notebook's first cell gives the terms it introduces, English beside d2l-zh's Chinese."""
    first = "".join(json.loads(path.read_text())["cells"][0]["source"])
    (terms,) = TERMS.findall(first)
    pairs = terms.removeprefix("**Terms / 术语.**").split("·")
    assert len(pairs) >= 3 and all(re.search(r"[a-zA-Z]", p) and re.search(r"[\u4e00-\u9fff]", p) for p in pairs)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_lesson_is_read_in_one_sitting(path):
    """Issue 23: at most 1,200 words of prose a notebook (notebook 7, eight controls: 1,500), opening with learning
    goals and ending with a Summary, Exercises and References that link the d2l chapter in English and Chinese."""
    assert prose_words(path) <= (1500 if path.name.startswith("07") else 1200)
    markdown = [("".join(c["source"])) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]
    assert "**Learning goals.**" in markdown[0]
    headings = [line for text in markdown for line in text.splitlines() if line.startswith("## ")]
    assert headings[-3:] in (["## Exercises", "## Summary", "## References"],
                             ["## Explore with sliders", "## Summary", "## References"])
    assert "d2l.ai/chapter_computer-vision/neural-style" in markdown[-1] and "风格迁移" in markdown[-1]


def test_the_lecture_is_read_in_an_hour():
    """Issue 23: notebooks 01-07 hold at most 6,000 words of prose in all (about 45 minutes of reading)."""
    assert sum(prose_words(path) for path in LESSONS) <= 6000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_code_cell_is_over_30_lines(path):
    """Issue 23: a code cell shows one idea; longer code lives in a hand-written module of the package."""
    cells = json.loads(path.read_text())["cells"]
    assert {c["id"]: n for c in cells if c["cell_type"] == "code"
            and (n := len("".join(c["source"]).splitlines())) > 30} == {}


BRITISH = re.compile(r"\b(colour\w*|recoloured|grey|neighbour\w*|(initiali|minimi|normali|optimi|parameteri|penali|"
                     r"quanti|recogni|synthesi)s(e|es|ed|ing|ation|er)s?)\b", re.I)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_prose_is_spelled_one_way(path):
    """Issue 37: American spelling throughout, as in the code's names (`preserve_color`, `optimizer`) and d2l."""
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            text = re.sub(r"`[^`]*`|\]\([^)]*\)", "", "".join(cell["source"]))
            found = BRITISH.search(text)
            assert not found, f"cell {cell['id']}: {found.group()}: spell it the American way"
