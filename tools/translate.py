"""The Chinese notebooks (issue 39), generated, never edited by hand.

`notebooks/zh/NN.ipynb` is the executed English notebook `notebooks/NN.ipynb` with every markdown cell replaced by its
translation in `notebooks/zh/NN.json`: {"notebook": "NN.ipynb", "cells": {cell id: {"en_sha256": the SHA-256 of
the English text it translates, "zh": the Chinese markdown}}}. Code cells and their outputs are copied as they
are, so what nbval proved for the English notebook holds for the Chinese one (nbval does not run it again).

    python tools/translate.py           # write notebooks/zh/*.ipynb
    python tools/translate.py --check   # one line per cell whose translation is missing or stale, or per Chinese
                                        # notebook that differs from what this tool writes; exit 1 if any
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def chinese(table_path: Path) -> tuple[str, list[str]]:
    """The Chinese notebook of one translation table, as the text of its file, and what is wrong with the table."""
    table = json.loads(table_path.read_text())
    notebook = json.loads((table_path.parent.parent / table["notebook"]).read_text())
    problems, ids = [], set()
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        ids.add(cell["id"])
        entry, where = table["cells"].get(cell["id"]), f"{table['notebook']} cell {cell['id']}"
        if entry is None:
            problems.append(f"{where}: no translation: add it to {table_path.name}")
        elif entry["en_sha256"] != sha256("".join(cell["source"])):
            problems.append(f"{where}: the English changed since it was translated: translate it again and update "
                            "its en_sha256")
        else:
            cell["source"] = entry["zh"].splitlines(keepends=True)
    problems += [f"{table['notebook']} cell {gone}: translated, but the notebook has no such markdown cell: remove it "
                 f"from {table_path.name}" for gone in sorted(set(table["cells"]) - ids)]
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", problems


def main(argv: list[str] | None = None, notebooks: Path = NOTEBOOKS) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; say what is out of step")
    args = parser.parse_args(argv)
    out_of_step = []
    for table_path in sorted((notebooks / "zh").glob("*.json")):
        text, problems = chinese(table_path)
        out_of_step += problems
        target = table_path.with_suffix(".ipynb")
        if args.check and not problems and (not target.exists() or target.read_text() != text):
            out_of_step.append(f"{target.relative_to(notebooks.parent)}: not what the tool writes: run "
                               "python tools/translate.py")
        elif not args.check and not problems:
            target.write_text(text)
    for line in out_of_step:
        print(line, file=sys.stderr)
    return 1 if out_of_step else 0


if __name__ == "__main__":
    sys.exit(main())
