"""Classroom builds (hand-written): HTML pages, reveal.js slide decks and student versions of the notebooks.

    python tools/classroom.py html       # build/html/NN.html and build/index.html (`make html`)
    python tools/classroom.py slides     # build/slides/NN.slides.html (reveal.js; press S for speaker notes)
    python tools/classroom.py students   # build/students/notebooks/NN.ipynb (+ data/), solutions replaced by stubs

Pages and decks work offline: `npm pack` fetches reveal.js, MathJax and require.js once into build/vendor/ (needs npm
and the `dev` extras, nbconvert). A reference solution is a code cell tagged "solution" (its metadata "hint" says what
to try), the cell that checks it is tagged "check" (tools/set_slide_metadata.py writes both).
"""

from __future__ import annotations

import argparse
import ast
import html
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path

import nbformat

from d2lstyle.files import write_text_whole

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
# The versions nbconvert's templates are written for (reveal.js 4 API, MathJax 2 API, require.js for widgets).
VENDOR = {"reveal.js": "4.0.2", "mathjax": "2.7.7", "requirejs": "2.1.10", "jquery": "2.2.4"}
# Pages and decks lie one folder below the build folder, beside its vendor/.
LIBRARIES = {"mathjax_url": "../vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
             "require_js_url": "../vendor/requirejs/require.js"}


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def _keep(package: str, member: str) -> bool:
    """Which files of an npm package the pages need: MathJax ships its sources twice and fonts in five formats."""
    if package == "mathjax":
        return not member.startswith(("unpacked/", "test/", "docs/")) and (
            not member.startswith("fonts/") or "/woff/" in member)
    return not member.startswith(("test/", "examples/", "css/", "js/"))


def vendor(out: Path) -> Path:
    """Fetch the JavaScript libraries into out/vendor/NAME/ (once; `npm pack` uses npm's cache). Returns the folder."""
    folder = out / "vendor"
    for package, version in VENDOR.items():
        target = folder / package
        if (target / ".version").exists() and (target / ".version").read_text() == version:
            continue
        if shutil.which("npm") is None:
            raise RuntimeError("npm is needed once to fetch reveal.js and MathJax: apt-get install npm")
        with tempfile.TemporaryDirectory() as tmp:
            fetched = subprocess.run(["npm", "pack", "--silent", f"{package}@{version}", "--pack-destination", tmp],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if fetched.returncode != 0:
                raise RuntimeError(f"could not fetch {package}@{version} with npm (is the npm registry reachable?): "
                                   f"{(fetched.stderr.strip().splitlines() or [''])[-1]}")
            shutil.rmtree(target, ignore_errors=True)
            with tarfile.open(next(Path(tmp).glob("*.tgz"))) as tar:  # npm tarballs hold one folder, "package/"
                files = [m.replace(name=m.name.split("/", 1)[1]) for m in tar.getmembers() if m.isfile()]
                tar.extractall(target, [m for m in files if _keep(package, m.name)], filter="data")
        (target / ".version").write_text(version)
    return folder


def _write(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_whole(path, text)


def _export(exporter, paths: list[Path], out: Path, name: str) -> list[Path]:
    """Each notebook through an nbconvert exporter into out/name ({} is its stem), the libraries and index beside."""
    vendor(out)
    written = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        nb.metadata.pop("widgets", None)  # saved widget state: a static page cannot run widgets (and would fetch them)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        written.append(out / name.format(path.stem))
        _write(body, written[-1])
    write_index(out)
    return written


def build_html(paths: list[Path], out: Path) -> list[Path]:
    """One HTML page per notebook into out/html/, with its figures inline and MathJax from out/vendor."""
    from nbconvert import HTMLExporter

    return _export(HTMLExporter(template_name="lab", **LIBRARIES), paths, out, "html/{}.html")


def build_slides(paths: list[Path], out: Path) -> list[Path]:
    """One reveal.js deck per notebook into out/slides/, 1280x720 (16:9 projectors), from the cells' slide types."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    # A cell tagged "figure-only" shows its output without its code: for figures too tall to share a slide with it.
    config = Config(TagRemovePreprocessor={"enabled": True, "remove_input_tags": ["figure-only"]})
    # The "white" theme: its font ships with reveal.js (most other themes fetch theirs from the web).
    exporter = SlidesExporter(config=config, template_name="offline_reveal", extra_template_basedirs=[str(TEMPLATES)],
                              reveal_url_prefix="../vendor/reveal.js", reveal_theme="white", reveal_width="1280",
                              reveal_height="720", jquery_url="../vendor/jquery/dist/jquery.min.js", **LIBRARIES)
    return _export(exporter, paths, out, "slides/{}.slides.html")


def write_index(out: Path) -> Path:
    """out/index.html: the series in order, each notebook with the page, deck and student version that exist."""
    rows = []
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        title = next((c.source.splitlines()[0].lstrip("# ") for c in nb.cells if c.cell_type == "markdown"), path.stem)
        links = [f'<a href="{rel}">{label}</a>' for label, rel in (
            ("page", f"html/{path.stem}.html"), ("slides", f"slides/{path.stem}.slides.html"),
            ("student notebook", f"students/notebooks/{path.name}")) if (out / rel).exists()]
        rows.append(f"<li>{html.escape(title)}: {' · '.join(links) or 'not built yet'}</li>")
    _write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>d2lstyle: the series</title><style>'
           "body{font:18px/1.5 sans-serif;max-width:48em;margin:2em auto}</style></head><body>\n<h1>Neural style "
           "transfer, step by step</h1>\n<ol>\n" + "\n".join(rows) + "\n</ol>\n<p>In a deck: arrows move, <kbd>S</kbd> "
           "opens the speaker notes, <kbd>F</kbd> goes full screen.</p>\n</body></html>\n", out / "index.html")
    return out / "index.html"


def stub(source: str, hint: str) -> str:
    """A solution cell's source with each top-level function's body replaced by `raise NotImplementedError(hint)`."""
    # The signatures stay, and so do the comment lines above the code ("reference solution" becomes "your solution").
    functions = [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    if not functions:
        raise ValueError("a solution cell must define at least one function for its stub to keep")
    comments = "\n".join(line for line in source.splitlines() if line.startswith("#"))
    defs = []
    for f in functions:  # the message in pieces of 90 characters; their spaces stay, so that they join back
        message = "".join(f"        {p!r}\n" for p in textwrap.wrap(f"{f.name}: {hint}", 90, drop_whitespace=False))
        defs.append(f"def {f.name}({ast.unparse(f.args)}):\n    raise NotImplementedError(\n{message}    )")
    return comments.replace("reference solution", "your solution") + "\n" + "\n\n\n".join(defs)


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `nb` whose solution cells are stubs; the outputs of solutions and checks are cleared."""
    nb = nbformat.from_dict(nb)  # a deep copy
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            try:
                cell.source = stub(cell.source, cell.metadata.pop("hint", "see the exercise above"))
            except (SyntaxError, ValueError) as err:
                raise ValueError(f"solution cell {cell.get('id')}: {err}: fix the cell or remove its tag") from None
        if "solution" in tags or "check" in tags:
            cell.outputs, cell.execution_count = [], None
    return nb


def build_students(paths: list[Path], out: Path) -> list[Path]:
    """Student notebooks into out/students/notebooks/, beside them the data and benchmark results that they read."""
    written = []
    for path in paths:
        try:
            student = student_version(nbformat.read(path, as_version=4))
        except ValueError as err:
            raise ValueError(f"{path.name}: {err}") from None
        written.append(out / "students" / "notebooks" / path.name)
        _write(nbformat.writes(student), written[-1])
    # the notebooks read ../data, and notebook 6 the benchmark's committed result; the folder can be handed out
    for data in ("data", "benchmarks/results"):
        shutil.copytree(ROOT / data, out / "students" / data, dirs_exist_ok=True)
    write_index(out)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/classroom.py", description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["html", "slides", "students", "all"])
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="the build folder (default: build/)")
    args = parser.parse_args(argv)
    builders = {"html": build_html, "slides": build_slides, "students": build_students}
    try:
        for what in builders if args.what == "all" else [args.what]:
            for path in builders[what](notebooks(), args.out):
                print(f"wrote {path}")
    except (RuntimeError, ValueError, OSError) as err:  # one line, not a traceback
        print(f"d2lstyle: error: {err}", file=sys.stderr)
        return 2
    print(f"open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
