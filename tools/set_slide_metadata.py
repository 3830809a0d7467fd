"""Write the hand-chosen slide types and exercise markers into the notebooks' cell metadata (nothing else changes).

Run once after editing the tables below: `python tools/set_slide_metadata.py` (or name the notebooks:
`... 05_style_transfer`). Cells are keyed by their id, so the
tables survive edits to the cells' sources. Slide types (Jupyter's "slideshow" metadata, used by reveal.js):
slide = a new slide, subslide = a new slide below the current one, fragment = appears on the current slide at the
next click, skip = left out of the deck (long definitions, set-up), notes = speaker notes (press S in the deck).
A cell tagged "figure-only" shows only its output in the deck. A solution cell gets the tag "solution" and a hint, its
checking cell the tag "check" (see tools/classroom.py).
"""

import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# One idea per slide: a heading opens a slide, the figure or output that answers it follows as a fragment or on its
# own subslide when it is tall. Definitions longer than a projector screen (and the set-up cells) are skipped:
# students read them in the notebook; the deck shows what they do.
SLIDES = {
    "01_images_and_features": {
        "c00": "slide", "c01": "skip", "i1-method": "slide", "i1-diagram": "subslide", "i1-lecture": "slide",
        "i1-path": "subslide", "c02": "slide", "c03": "skip",
        "c04": "fragment", "c05": "skip", "c06": "fragment", "c07": "skip", "c07-show": "skip",
        "i5-lecture-style": "skip", "c08": "subslide", "c09": "fragment", "i5-lecture-md": "subslide",
        "i5-lecture-demo": "fragment", "c10": "slide",
        "c11": "skip", "c11b": "skip", "c12": "fragment", "c13": "slide", "c14": "skip", "c14b": "skip", "c15":
        "subslide", "c16": "skip", "c16b": "skip", "c18": "skip", "c18b": "skip", "c18c": "skip", "c19":
        "subslide", "i1-quant-md": "subslide", "i1-quant": "fragment", "i1-quant-seen": "fragment", "c20": "slide",
        "i1-rf": "fragment", "c21": "subslide", "i1-maps-seen": "fragment", "c22":
        "slide", "c23": "fragment", "c24": "slide", "c25": "fragment", "c26": "slide", "c27": "skip", "c28": "skip",
        "sum": "slide", "refs": "slide",
    },
    "02_content_loss": {
        "c00": "slide", "c01": "skip", "c02": "slide", "c03": "fragment", "c04": "subslide", "c05": "fragment", "c06":
        "slide", "c07": "skip", "c07a": "skip", "c07b": "skip", "c08": "slide", "c09": "subslide", "c10": "subslide",
        "c11": "subslide", "c12": "fragment", "c13": "fragment", "c14": "slide", "c15": "skip", "c16": "skip", "sum":
        "slide", "refs": "slide",
    },
    "03_gram_matrix_style": {
        "c00": "slide", "c01": "skip", "c02": "slide", "c02b": "subslide", "c02c": "skip", "c03": "fragment",
        "c03b": "subslide", "c04": "subslide", "c05": "subslide", "c06": "slide", "i3-heat": "subslide",
        "i3-heat-seen": "fragment", "c07": "fragment", "c08": "slide", "c09": "fragment", "c10": "subslide",
        "c11": "fragment", "c12": "slide", "c13": "subslide", "c14": "subslide", "c15": "slide", "c16": "skip",
        "c17": "skip", "sum": "slide", "refs": "slide",
    },
    "04_total_variation": {
        "c00": "slide", "c01": "skip", "c02": "slide", "c03": "fragment", "c03a": "subslide", "c03b": "fragment",
        "c03c": "fragment", "c04": "slide", "c05": "subslide", "c06": "subslide", "c07": "subslide", "c08": "slide",
        "c09": "skip", "c10": "skip", "sum": "slide", "refs": "slide",
    },
    "05_style_transfer": {
        "c00": "slide", "c01": "skip", "c02": "slide", "c03": "skip", "c03b": "skip", "c04": "subslide", "c05":
        "fragment", "c06": "slide", "c07": "skip", "c08": "notes", "c10": "slide", "c11": "subslide", "c12":
        "subslide", "c13": "slide", "c14": "skip", "c15": "subslide", "c16": "slide", "i5-tv-md": "slide", "i5-tv":
        "subslide", "i5-tv-seen": "subslide", "c16b": "slide", "c17": "skip", "c18": "subslide", "c19": "slide",
        "i5-bug": "skip", "c20": "skip", "c21": "skip", "i5-explore-md": "slide", "i5-explore": "subslide",
        "i5-sliders": "skip", "sum": "slide", "refs": "slide",
    },
    "06_faster": {
        "c00": "slide", "c01": "skip", "c02": "slide", "c03": "skip", "c04": "fragment", "c05b": "slide", "c06": "skip",
        "c07": "skip", "c08": "subslide", "c09": "subslide", "st-md": "slide", "st-code": "skip", "st-measure":
        "subslide", "st-plot": "subslide", "st-pics": "subslide", "st-seen": "subslide", "c09b": "slide", "c10":
        "fragment", "c11": "slide", "b16-md": "slide", "b16-measure": "fragment", "b16-seen": "subslide", "b16-run":
        "fragment", "c11b": "slide", "c11c": "skip", "c11e": "fragment", "c11f": "subslide", "c11r": "skip", "c11t":
        "subslide", "c11u": "fragment", "c11v": "subslide", "c12": "skip", "c12b": "skip", "c12c": "skip", "c13":
        "subslide", "c14": "skip", "c15": "subslide", "c15b": "subslide", "c16": "fragment", "c16b": "slide", "c18b":
        "slide", "c19": "skip", "c20": "skip", "sum": "slide", "refs": "slide",
    },
    "07_controls": {
        "c00": "slide", "c00b": "subslide", "c01": "skip", "c02": "subslide", "c03": "skip", "c04": "slide", "c05":
        "skip", "c05b": "skip", "c06": "subslide", "c09": "subslide", "c10": "subslide", "c11": "skip", "c12":
        "fragment", "c13": "slide", "c14": "skip", "c15": "skip", "c16": "skip", "c16b": "skip", "c16c": "skip", "c17":
        "skip", "c18": "subslide", "c19": "fragment", "c20": "subslide", "c21": "skip", "c22": "subslide", "c23":
        "skip", "c24": "subslide", "c25": "subslide", "c25b": "slide", "c26": "skip", "c27": "subslide", "c28":
        "subslide", "c28b": "slide", "c29": "subslide", "c30": "skip", "c31": "subslide", "c32": "slide", "c33": "skip",
        "c34": "subslide", "c35": "subslide", "c35b": "slide", "c36": "fragment", "c37": "skip", "c38": "subslide",
        "c39": "slide", "c40": "fragment", "c41": "subslide", "c42": "skip", "c43": "subslide", "c44": "slide", "c45":
        "fragment", "c46": "subslide", "c47": "fragment", "c48": "slide", "c49": "skip", "c50": "skip", "sum": "slide",
        "refs": "slide",
    },
    "08_fast_style_transfer": {
        "c00": "slide", "c01": "skip", "c02": "slide", "c03": "slide", "c04": "skip", "c04b": "skip", "c05": "subslide",
        "c06": "subslide", "c07": "fragment", "c08": "slide", "c09": "subslide", "c10": "fragment", "c11": "slide",
        "c12": "subslide", "c13": "fragment", "c14": "slide", "c15": "fragment", "c16": "fragment", "c17": "skip",
        "c18": "subslide", "c19": "fragment", "c20": "slide", "c21": "skip", "c22": "fragment", "c23": "subslide",
        "c24": "fragment", "c25": "subslide", "c26": "fragment", "c27": "subslide", "c27b": "subslide", "c28": "slide",
        "c29": "subslide", "c30": "slide", "c31": "subslide", "c32": "subslide", "c32b": "subslide",
        "c33": "slide", "c34": "subslide",
        "c35": "slide", "c36": "slide", "c37": "slide", "c38": "skip", "c39": "skip", "c40": "skip", "c41": "slide",
    },
    "A1_hardware": {
        "a00": "slide", "a01": "skip", "a01b": "skip", "c05": "slide", "fl-conv": "subslide", "c05-seen": "subslide",
        "cl-md": "slide", "cl-code": "skip", "cl-measure": "fragment", "cl-seen": "subslide", "gp-md": "slide",
        "gp-measure": "fragment", "gp-bench": "subslide", "gp-seen": "subslide", "c16b": "slide", "c17": "subslide",
        "c17b": "subslide", "c18": "slide", "rs-md": "slide", "rs-code": "subslide", "rs-md2": "fragment",
        "lv-md": "slide", "lv-code": "fragment", "lv-seen": "subslide", "fl-md": "slide", "fl-code": "fragment",
        "fl-seen": "subslide", "fl-avx2-seen": "subslide", "fl-avx2": "fragment", "wg-md": "slide",
        "wg-code": "subslide", "wg-seen": "subslide", "i8-md": "slide",
        "i8-code": "subslide", "i8-seen": "subslide", "refs": "slide",
    },
}

# Figures too tall to share a slide with the code that draws them: the deck shows only the output.
FIGURE_ONLY = {"01_images_and_features": ["i1-diagram", "i1-quant", "c21"],
               "03_gram_matrix_style": ["c03b", "i3-heat", "c13"],
               "04_total_variation": ["c07"],
               "05_style_transfer": ["c11", "i5-tv", "c18", "i5-explore"],
               "06_faster": ["c04", "c08", "st-measure", "st-plot", "c10", "b16-measure", "b16-run", "c11t", "c15"],
               "07_controls": ["c09", "c12", "c27", "c29", "c31", "c34"],
               "08_fast_style_transfer": ["c09", "c12", "c27", "c27b", "c31", "c34"],
               "A1_hardware": ["cl-measure", "gp-measure", "gp-bench", "c17", "c17b", "rs-code", "lv-code",
                               "fl-code", "fl-avx2", "wg-code", "i8-code"]}

# Exercises with a reference solution: (solution cell, check cell, hint shown by the student version's stub).
EXERCISES = {
    "01_images_and_features": [("c27", "c28", "compare the shapes printed for the 192 x 289 cat with the list of "
                                "layers: which layers change the height and width, and by how much? An odd side "
                                "shows which way it rounds")],
    "02_content_loss": [("c15", "c16", "how many pixels does one feature of each layer see, and what does a 2 x 2 "
                         "max pooling do with a move of one pixel?")],
    "03_gram_matrix_style": [("c16", "c17", "start from dL/dG, the derivative of style_loss with respect to each "
                              "entry of G; then apply the rule of 'Its gradient' to Y_hat reshaped to (c, h*w)")],
    "04_total_variation": [("c09", "c10", "each mean runs over all pairs of neighbours in one direction: how many "
                            "pairs are there, how many of them differ, and by how much?")],
    "05_style_transfer": [("c20", "c21", "which term would you expect to be large at the content image, and which "
                           "target does it compare with? Follow that target back to the image it comes from")],
    "06_faster": [("c19", "c20", "which time of b is 'when b got there' if b goes up again later? Try your "
                   "function on a b whose last value is not its lowest, and on a that never gets there")],
    "07_controls": [("c49", "c50", "the gap is the same for every G, so choose a G for which one of the two "
                     "losses is easy to write down")],
    "08_fast_style_transfer": [("c38", "c39", "write the total time of each way for N pictures and solve for N; "
                                "N is a whole number, and what if the network is not faster per picture?")],
}


def add_tag(cell: nbformat.NotebookNode, tag: str) -> None:
    cell.metadata["tags"] = sorted({*cell.metadata.get("tags", []), tag})


def set_metadata(path: Path, slides: dict[str, str], figure_only: list[str],
                 exercises: list[tuple[str, str, str]]) -> None:
    nb = nbformat.read(path, as_version=4)
    cells = {cell.id: cell for cell in nb.cells}
    for cell_id, slide_type in slides.items():
        cells[cell_id].metadata["slideshow"] = {"slide_type": slide_type}
    for cell_id in figure_only:
        add_tag(cells[cell_id], "figure-only")
    for solution, check, hint in exercises:
        add_tag(cells[solution], "solution")
        cells[solution].metadata["hint"] = hint
        add_tag(cells[check], "check")
    nbformat.write(nb, path)


if __name__ == "__main__":  # `python tools/set_slide_metadata.py [NOTEBOOK_STEM ...]`: those notebooks only
    for name, slides in SLIDES.items():
        if len(sys.argv) > 1 and name not in sys.argv[1:]:
            continue
        set_metadata(NOTEBOOKS / f"{name}.ipynb", slides, FIGURE_ONLY.get(name, []), EXERCISES.get(name, []))
