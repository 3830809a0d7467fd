"""Slides metadata, labelled figures and the student versions of the notebooks (tools/classroom.py)."""

import ast
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import nbformat
import pytest

from tools import classroom

NOTEBOOKS = classroom.notebooks()  # the English, then the Chinese
ENGLISH = [p for p in NOTEBOOKS if not classroom.chinese(p)]
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


def read(path):
    return nbformat.read(path, as_version=4)


def tagged(nb, tag):
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=classroom.name)
def test_every_cell_has_a_slide_type_and_the_deck_opens_with_a_slide(path):
    cells = read(path).cells
    missing = [cell.id for cell in cells if cell.metadata.get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]
    assert missing == [], f"cells without slide metadata (add them to tools/set_slide_metadata.py): {missing}"
    assert cells[0].metadata.slideshow.slide_type == "slide"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=classroom.name)
def test_every_show_images_call_labels_its_panels(path):
    calls = [node for cell in read(path).cells if cell.cell_type == "code"
             for node in ast.walk(ast.parse("\n".join(line for line in cell.source.splitlines()
                                                      if not line.startswith("%"))))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_images"]
    unlabelled = [ast.unparse(call) for call in calls
                  if len(call.args) < 2 and not any(k.arg in ("titles", "col_labels") for k in call.keywords)]
    assert unlabelled == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=classroom.name)
def test_exercises_are_marked_a_solution_then_its_check(path):
    nb = read(path)
    solutions, checks = tagged(nb, "solution"), tagged(nb, "check")
    unmarked = [c.id for c in nb.cells if c.cell_type == "code" and "reference solution" in c.source.split("\n")[0]
                and "solution" not in c.metadata.get("tags", [])]
    assert unmarked == [], "tag reference solutions 'solution' (tools/set_slide_metadata.py)"
    assert solutions and [i + 1 for i in solutions] == checks
    assert all(nb.cells[i].metadata.get("hint") for i in solutions)


def test_stub_keeps_comments_and_signatures_and_raises_with_the_hint():
    source = "# Exercise 2, reference solution\ndef f(a, b=2, *c, d):\n    return a\n\n\ndef g():\n    return 1\n"
    namespace = {}
    exec(classroom.stub(source, "add them"), namespace)
    with pytest.raises(NotImplementedError, match="f: add them"):
        namespace["f"](1, d=3)
    with pytest.raises(NotImplementedError, match="g: add them"):
        namespace["g"]()
    assert classroom.stub(source, "x").startswith("# Exercise 2, your solution\n")
    with pytest.raises(ValueError, match="at least one function"):
        classroom.stub("x = 1", "x")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=classroom.name)
def test_student_version_differs_only_in_solutions(path):
    nb = read(path)
    student = classroom.student_version(nb)
    for i, (mine, theirs) in enumerate(zip(nb.cells, student.cells, strict=True)):
        if i in tagged(nb, "solution"):
            assert "NotImplementedError" in theirs.source and mine.source.splitlines()[-1] not in theirs.source
        else:
            assert theirs.source == mine.source
        if i in tagged(nb, "check"):
            assert theirs.outputs == []
    assert nb.cells[tagged(nb, "solution")[0]].source != student.cells[tagged(nb, "solution")[0]].source


# Run in the student notebook's kernel first: every optimisation gets a quarter of its steps (at least 2; a callback
# still sees every step number, the skipped ones repeating the last), so that "runs up to its first exercise" is
# checked quickly; nbval runs the instructor notebooks in full.
QUICK = """
from IPython import get_ipython
import d2lstyle

def _quick(full):
    def synthesize(*args, steps=100, callback=None, **kwargs):
        quick, last = max(2, steps // 4), []

        def record(step, img, losses):
            last[:] = [img, losses]
            if callback is not None:
                callback(step, img, losses)

        result = full(*args, steps=quick, callback=record, **kwargs)
        for step in range(quick + 1, steps + 1):  # the skipped steps repeat the last one: histories keep their length
            if callback is not None and last:
                callback(step, *last)
        return result
    synthesize.quick = True
    return synthesize

def _quicken_synthesize(*_):  # also a synthesize that a notebook defines itself (notebook 2)
    namespace = get_ipython().user_ns
    if "synthesize" in namespace and not getattr(namespace["synthesize"], "quick", False):
        namespace["synthesize"] = _quick(namespace["synthesize"])

import d2lstyle.synthesis as module  # d2lstyle imports its modules on first use: this is the first
d2lstyle.synthesize = module.synthesize = _quick(module.synthesize)
get_ipython().events.register("post_run_cell", _quicken_synthesize)
"""

# Their cells assert what full-length optimisations reach (each reconstruction's loss fell to a few per cent;
# the objective fell threefold; L-BFGS reached Adam's objective, and a larger tol stopped sooner; luminance-only
# kept the colours and plain transfer did not; the trained network scores worse than 10 steps of transfer), which
# a quarter of the steps may not reach: these run at full length.
FULL_LENGTH = {"02_content_loss", "05_style_transfer", "06_faster", "07_controls", "08_fast_style_transfer"}


@pytest.mark.slow  # the English only: a Chinese notebook's code is the English one's (tests/test_translation.py)
@pytest.mark.parametrize("path", ENGLISH, ids=classroom.name)
def test_student_notebook_runs_to_its_exercises_whose_checks_fail_on_stubs_and_pass_on_solutions(path, tmp_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = read(path)
    classroom.build_students(classroom.Build(tmp_path), {path: nb})
    student_path = tmp_path / "students" / "notebooks" / path.name
    student = read(student_path)
    client = NotebookClient(student, timeout=1200, kernel_name="python3",
                            resources={"metadata": {"path": str(student_path.parent)}})
    solutions = tagged(nb, "solution")
    with client.setup_kernel():
        if path.stem not in FULL_LENGTH:
            client.execute_cell(nbformat.v4.new_code_cell(QUICK), 0)
        for i, cell in enumerate(student.cells):
            if cell.cell_type != "code" or i - 1 in solutions:  # checks run below, right after their stub
                continue
            client.execute_cell(cell, i)
            if i in solutions:
                with pytest.raises(CellExecutionError, match="NotImplementedError"):
                    client.execute_cell(student.cells[i + 1], i + 1)
                client.execute_cell(nb.cells[i], i)  # the reference solution ...
                client.execute_cell(student.cells[i + 1], i + 1)  # ... passes the same check


def test_sliders_cell_without_ipywidgets_says_so_in_one_line(monkeypatch, capsys):
    (path,) = [p for p in ENGLISH if p.name.startswith("05_")]
    (cell,) = [c for c in read(path).cells if "ipywidgets" in c.source and c.cell_type == "code"]
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now raises ImportError
    exec(cell.source, {"explore": None, "STYLE_LAYERS": ()})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "ipywidgets is not installed" in lines[0]


def test_students_command_writes_notebooks_and_data_and_an_index(tmp_path, capsys):
    assert classroom.main(["students", "--out", str(tmp_path)]) == 0
    built = tmp_path / "students" / "notebooks"
    assert sorted(p.name for p in built.glob("*.ipynb")) == [p.name for p in ENGLISH]
    assert sorted(p.name for p in (built / "zh").iterdir()) == [p.name for p in NOTEBOOKS if classroom.chinese(p)]
    assert (tmp_path / "students" / "data" / "chelsea.png").exists()  # the notebooks read ../data
    index = (tmp_path / "index.html").read_text()
    assert "students/notebooks/01_" in index and "students/notebooks/zh/01_" in index and "学生笔记本" in index
    for zh in (built / "zh").iterdir():  # the same stubs and checks: only the prose differs
        english = read(built / zh.name).cells
        assert [c for c in read(zh).cells if c.cell_type == "code"] == [c for c in english if c.cell_type == "code"]


def test_pages_without_npm_stop_with_one_clear_error_and_write_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(classroom.shutil, "which", lambda name: None)
    assert classroom.main(["html", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("classroom: error: npm is needed")
    assert list(tmp_path.iterdir()) == []


def test_a_solution_cell_without_a_function_gets_one_line_naming_notebook_and_cell(tmp_path, monkeypatch, capsys):
    nb = nbformat.read(classroom.ROOT / "notebooks" / "04_total_variation.ipynb", as_version=4)
    solution = next(c for c in nb.cells if "solution" in c.metadata.get("tags", []))
    solution.source = "answer = 0.5 * (1 + 1)"
    broken = tmp_path / "04_total_variation.ipynb"
    nbformat.write(nb, broken)
    monkeypatch.setattr(classroom, "notebooks", lambda: [broken])
    assert classroom.main(["students", "--out", str(tmp_path / "build")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and f"04_total_variation.ipynb: solution cell {solution.id}: a solution cell must" in err[0]
    assert not (tmp_path / "build").exists()


def fake_npm(monkeypatch):
    """`npm pack NAME@VERSION --pack-destination DIR` without the network: a tarball holding package/lib.js."""
    def run(command, **_):
        spec, folder = next(c for c in command if "@" in c), command[command.index("--pack-destination") + 1]
        with tarfile.open(Path(folder) / "package.tgz", "w:gz") as tar:
            info = tarfile.TarInfo("package/lib.js")
            info.size = len(spec)
            tar.addfile(info, io.BytesIO(spec.encode()))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(classroom.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(classroom.subprocess, "run", run)


def test_pages_keep_a_vendor_folder_the_tool_did_not_write(tmp_path, monkeypatch, capsys):
    fake_npm(monkeypatch)
    monkeypatch.setattr(classroom, "notebooks", lambda: [])
    mine = tmp_path / "vendor" / "mathjax" / "my_config.js"  # the user's own copy of a library, under its name
    mine.parent.mkdir(parents=True)
    mine.write_text("my settings")
    assert classroom.main(["html", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert mine.read_text() == "my settings"
    assert len(err) == 1 and str(mine.parent) in err[0] and "not written by" in err[0]
    old = tmp_path / "vendor" / "reveal.js"  # the tool's own folder of another version is replaced
    old.mkdir()
    (old / ".version").write_text("3.0.0")
    (old / "reveal.js").write_text("version 3")
    mine.unlink()
    mine.parent.rmdir()
    assert classroom.main(["html", "--out", str(tmp_path)]) == 0
    assert (old / ".version").read_text() == classroom.VENDOR["reveal.js"] and (old / "lib.js").exists()
    assert not (old / "reveal.js").exists()


def test_students_keeps_edited_notebooks_and_a_users_index_until_force(tmp_path, monkeypatch, capsys):
    sources = [tmp_path / "source" / p.name for p in NOTEBOOKS[:2]]
    for path, source in zip(NOTEBOOKS[:2], sources, strict=True):
        source.parent.mkdir(exist_ok=True)
        source.write_bytes(path.read_bytes())
    monkeypatch.setattr(classroom, "notebooks", lambda: sources)
    out = tmp_path / "build"
    (out / "index.html").parent.mkdir()
    (out / "index.html").write_text("my page")
    assert classroom.main(["students", "--out", str(out)]) == 0
    edited, untouched = (out / "students" / "notebooks" / p.name for p in sources)
    edited.write_text(edited.read_text().replace("NotImplementedError", "my answer", 1))
    nb = read(sources[1])
    nb.cells[0].source += "\n\nA new line."  # the instructor changes the second notebook
    nbformat.write(nb, sources[1])
    assert classroom.main(["students", "--out", str(out)]) == 0
    assert "my answer" in edited.read_text() and (out / "index.html").read_text() == "my page"
    assert "A new line." in untouched.read_text()  # what the tool wrote and nobody changed is rebuilt
    err = capsys.readouterr().err
    assert str(edited) in err and str(out / "index.html") in err and "--force" in err and str(untouched) not in err
    assert classroom.main(["students", "--out", str(out), "--force"]) == 0
    assert "my answer" not in edited.read_text() and "students/notebooks/" in (out / "index.html").read_text()


BROKEN = {"cut short": '{"cells": [{"cell_type": "markdown", "source": "# A',
          "not a notebook": '{"title": "my notes"}',
          "a cell without source": json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
              {"cell_type": "markdown", "id": "a", "metadata": {}}]})}


@pytest.mark.parametrize("text", BROKEN.values(), ids=BROKEN.keys())
def test_a_malformed_notebook_is_one_error_line_naming_it(text, tmp_path, monkeypatch, capsys):
    broken = tmp_path / "09_broken.ipynb"
    broken.write_text(text)
    monkeypatch.setattr(classroom, "notebooks", lambda: [NOTEBOOKS[0], broken])
    assert classroom.main(["students", "--out", str(tmp_path / "build")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and str(broken) in err[0], err
    assert not (tmp_path / "build").exists()


def test_a_notebook_whose_first_markdown_cell_is_empty_is_listed_by_its_first_heading(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(""), nbformat.v4.new_markdown_cell("# B")])
    path = tmp_path / "09_empty.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(classroom, "notebooks", lambda: [path])
    assert classroom.main(["students", "--out", str(tmp_path / "build")]) == 0
    assert "<li>B: " in (tmp_path / "build" / "index.html").read_text()
