"""Classroom builds: HTML pages, reveal.js slide decks and student versions of the notebooks.

A tool of the repository, not of the package: an installed package has no notebooks to build from.

    python tools/classroom.py html       # build/html/NN.html and build/index.html (`make html`)
    python tools/classroom.py slides     # build/slides/NN.slides.html (reveal.js; press S for speaker notes)
    python tools/classroom.py students   # build/students/notebooks/NN.ipynb (+ data/), solutions replaced by stubs

Each builds the Chinese notebooks too (notebooks/zh/, written by tools/translate.py): build/html/NN.zh.html,
build/slides/NN.zh.slides.html and build/students/notebooks/zh/NN.ipynb; the index links both languages.

Pages and decks work offline: `npm pack` fetches reveal.js, MathJax and require.js once into build/vendor/ (needs npm
and the `dev` extras, nbconvert). A reference solution is a code cell tagged "solution" (its metadata "hint" says what
to try), the cell that checks it is tagged "check" (tools/set_slide_metadata.py writes both).

A build replaces only what this tool wrote: a file changed since (a student's answers, your own index.html) is kept
and named, and `--force` replaces it; a folder in vendor/ without the tool's .version file is refused.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import html
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path

import nbformat

from d2lstyle.files import write_whole

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
# The versions nbconvert's templates are written for (reveal.js 4 API, MathJax 2 API, require.js for widgets).
VENDOR = {"reveal.js": "4.0.2", "mathjax": "2.7.7", "requirejs": "2.1.10", "jquery": "2.2.4"}
# Pages and decks lie one folder below the build folder, beside its vendor/.
LIBRARIES = {"mathjax_url": "../vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
             "require_js_url": "../vendor/requirejs/require.js"}
RECORD = ".classroom.json"  # in the build folder: the sha256 of each file this tool wrote there


def notebooks() -> list[Path]:
    """The lessons in order, then their Chinese versions (notebooks/zh/)."""
    return sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")) + sorted((ROOT / "notebooks" / "zh").glob("[0-9]*.ipynb"))


def chinese(path: Path) -> bool:
    return path.parent.name == "zh"


def name(path: Path) -> str:
    """A notebook's name in the build: "05_style_transfer", and "05_style_transfer.zh" for its Chinese version."""
    return path.stem + ".zh" * chinese(path)


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path`, checked against nbformat's schema; one ValueError naming the file where it is not."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        return nb
    except Exception as err:  # nbformat raises JSON, schema, key and attribute errors alike on a damaged file
        raise ValueError(f"{path}: cannot read it as a notebook: {(str(err).splitlines() or [repr(err)])[0]}") from None


class Build:
    """A build folder. `write` replaces a file only where it still holds what this tool wrote there (or with
    `force`); a file changed since is left as it is and listed in `kept`."""

    def __init__(self, out: Path, force: bool = False):
        self.out, self.force, self.written, self.kept = out, force, [], []
        self.record = json.loads((out / RECORD).read_text()) if (out / RECORD).is_file() else {}

    def write(self, name: str, data: str | bytes) -> None:
        data = data.encode() if isinstance(data, str) else data
        path, digest = self.out / name, hashlib.sha256(data).hexdigest()
        if path.exists() and not self.force and hashlib.sha256(path.read_bytes()).hexdigest() not in (
                digest, self.record.get(name)):
            self.kept.append(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(path, lambda f: f.write(data))
        self.written.append(path)
        self.record[name] = digest
        write_whole(self.out / RECORD, lambda f: f.write(json.dumps(self.record, indent=0, sort_keys=True).encode()))


def _keep(package: str, member: str) -> bool:
    """Which files of an npm package the pages need: MathJax ships its sources twice and fonts in five formats."""
    if package == "mathjax":
        return not member.startswith(("unpacked/", "test/", "docs/")) and (
            not member.startswith("fonts/") or "/woff/" in member)
    return not member.startswith(("test/", "examples/", "css/", "js/"))


def _fetch(package: str, version: str, target: Path) -> None:
    """`npm pack` one library (npm's cache serves it again) and unpack what the pages need into target."""
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed once to fetch reveal.js and MathJax: apt-get install npm")
    with tempfile.TemporaryDirectory() as tmp:
        fetched = subprocess.run(["npm", "pack", "--silent", f"{package}@{version}", "--pack-destination", tmp],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if fetched.returncode != 0:
            raise RuntimeError(f"could not fetch {package}@{version} with npm (is the npm registry reachable?): "
                               f"{(fetched.stderr.strip().splitlines() or [''])[-1]}")
        shutil.rmtree(target, ignore_errors=True)  # only ever a folder this tool wrote (see vendor)
        with tarfile.open(next(Path(tmp).glob("*.tgz"))) as tar:  # npm tarballs hold one folder, "package/"
            files = [m.replace(name=m.name.split("/", 1)[1]) for m in tar.getmembers() if m.isfile()]
            tar.extractall(target, [m for m in files if _keep(package, m.name)], filter="data")
    (target / ".version").write_text(version)


def vendor(out: Path) -> None:
    """The JavaScript libraries in out/vendor/NAME/, each with a .version file: a folder there without one was not
    written by this tool, and is refused rather than replaced."""
    targets = {package: out / "vendor" / package for package in VENDOR}
    for target in targets.values():
        if target.exists() and not (target / ".version").is_file():
            raise RuntimeError(f"{target} was not written by this tool (it has no .version file): move it away, "
                               "or build into another --out")
    for package, version in VENDOR.items():
        if not (targets[package] / ".version").is_file() or (targets[package] / ".version").read_text() != version:
            _fetch(package, version, targets[package])


def _export(build: Build, exporter, found: dict, pattern: str) -> None:
    """Each notebook through an nbconvert exporter into out/pattern ({} is its name()), the libraries beside."""
    vendor(build.out)
    for path, nb in found.items():
        nb = nbformat.from_dict(nb)  # a copy, without the saved widget state: a static page cannot run widgets
        nb.metadata.pop("widgets", None)
        exporter.language_code = "zh" if chinese(path) else "en"  # <html lang>: the browser picks fonts by it
        build.write(pattern.format(name(path)), exporter.from_notebook_node(nb, resources={"metadata": {
            "name": name(path)}})[0])


def build_html(build: Build, found: dict) -> None:
    """One HTML page per notebook into out/html/, with its figures inline and MathJax from out/vendor."""
    from nbconvert import HTMLExporter

    _export(build, HTMLExporter(template_name="lab", **LIBRARIES), found, "html/{}.html")


def build_slides(build: Build, found: dict) -> None:
    """One reveal.js deck per notebook into out/slides/, 1280x720 (16:9 projectors), from the cells' slide types."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    # A cell tagged "figure-only" shows its output without its code: for figures too tall to share a slide with it.
    config = Config(TagRemovePreprocessor={"enabled": True, "remove_input_tags": ["figure-only"]})
    # The "white" theme: its font ships with reveal.js (most other themes fetch theirs from the web).
    exporter = SlidesExporter(config=config, template_name="offline_reveal", extra_template_basedirs=[str(TEMPLATES)],
                              reveal_url_prefix="../vendor/reveal.js", reveal_theme="white", reveal_width="1280",
                              reveal_height="720", jquery_url="../vendor/jquery/dist/jquery.min.js", **LIBRARIES)
    _export(build, exporter, found, "slides/{}.slides.html")


def student_path(path: Path) -> str:
    """Where a notebook's student version goes in the build: the Chinese ones in a zh/ folder, as in notebooks/."""
    return f"students/notebooks/{'zh/' * chinese(path)}{path.name}"


ENGLISH = (": ", "page", "slides", "student notebook", "not built yet")
CHINESE = ("：", "网页", "幻灯片", "学生笔记本", "尚未构建")


def _entry(build: Build, path: Path, nb: nbformat.NotebookNode, words: tuple[str, ...]) -> str:
    """A notebook's title and links to its page, deck and student version, those that exist, in `words`."""
    title = next((line.lstrip("# ") for cell in nb.cells if cell.cell_type == "markdown"
                  for line in cell.source.splitlines()[:1]), path.stem)
    built = (f"html/{name(path)}.html", f"slides/{name(path)}.slides.html", student_path(path))
    links = [f'<a href="{rel}">{label}</a>' for label, rel in zip(words[1:4], built, strict=True)
             if (build.out / rel).exists()]
    return f"{html.escape(title)}{words[0]}{' · '.join(links) or words[4]}"


def write_index(build: Build, found: dict) -> None:
    """out/index.html: the series in order, each notebook with the page, deck and student version that exist, and
    below it those of its Chinese version."""
    rows = []
    for path, nb in found.items():
        if not chinese(path):
            zh = path.parent / "zh" / path.name
            rows.append(f"<li>{_entry(build, path, nb, ENGLISH)}" + (
                f'<br><span lang="zh">{_entry(build, zh, found[zh], CHINESE)}</span>' if zh in found else "") + "</li>")
    build.write("index.html", '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>d2lstyle: the '
                "series</title><style>body{font:18px/1.5 sans-serif;max-width:48em;margin:2em auto}ul{list-style:none;"
                "padding:0}li{margin:.6em 0}</style></head><body>\n<h1>Neural style transfer, step by step</h1>\n"
                '<p lang="zh">风格迁移，一步一步：每一课的中文版在英文版下面。</p>\n<ul>\n' + "\n".join(rows) +
                "\n</ul>\n<p>In a deck: arrows move, <kbd>S</kbd> opens the speaker notes, <kbd>F</kbd> goes full "
                "screen.</p>\n</body></html>\n")


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


def build_students(build: Build, found: dict) -> None:
    """Student notebooks into out/students/notebooks/, beside them the data and benchmark results that they read."""
    students = {}
    for path, nb in found.items():  # all of them first: a bad solution cell stops the build before it writes
        try:
            students[path] = student_version(nb)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    for path, nb in students.items():
        build.write(student_path(path), nbformat.writes(nb))
    # the notebooks read ../data, notebooks 8 and A1 the benchmarks' committed results: the folder can be handed out
    for file in sorted(f for folder in ("data", "benchmarks/results") for f in (ROOT / folder).rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts:
            build.write(f"students/{file.relative_to(ROOT).as_posix()}", file.read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/classroom.py", description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["html", "slides", "students", "all"])
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="the build folder (default: build/)")
    parser.add_argument("--force", action="store_true", help="also replace files changed since this tool wrote them")
    args = parser.parse_args(argv)
    builders = {"html": build_html, "slides": build_slides, "students": build_students}
    try:
        build, found = Build(args.out, args.force), {path: read_notebook(path) for path in notebooks()}
        for what in builders if args.what == "all" else [args.what]:
            builders[what](build, found)
        write_index(build, found)
    except (RuntimeError, ValueError, OSError) as err:  # one line, not a traceback
        print(f"classroom: error: {err}", file=sys.stderr)
        return 2
    for path in build.written:
        if path.suffix in (".html", ".ipynb"):  # the pages, decks and notebooks; not each copy of data/
            print(f"wrote {path}")
    for path in build.kept:
        print(f"classroom: kept {path}: changed since this tool wrote it (--force replaces it)", file=sys.stderr)
    print(f"open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
