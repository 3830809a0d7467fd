"""Make the README's pictures: docs/result.jpg (content, style and the command line's default result, side by
side) and, given a second result, docs/two_ways.jpg (the photo, the optimisation's picture, the network's).

    python tools/make_readme_figure.py RESULT.png                # RESULT.png: what `python -m d2lstyle` wrote
    python tools/make_readme_figure.py RESULT.png NET.png   # NET.png: `python -m d2lstyle --model starry_night`
"""

import sys
from pathlib import Path

from d2lstyle import load_image, show_images
from d2lstyle.batch import DEFAULT_CONTENT, DEFAULT_STYLE

DOCS = Path(__file__).resolve().parent.parent / "docs"


def save(fig, name: str) -> None:
    fig.savefig(DOCS / name, dpi=90, pil_kwargs={"quality": 85})
    print(f"wrote {DOCS / name}")


result = load_image(sys.argv[1])
height = result.shape[-2]
content = load_image(DEFAULT_CONTENT, height)
save(show_images([content, load_image(DEFAULT_STYLE, height), result], ["content", "style", "python -m d2lstyle"],
                 height=3.2), "result.jpg")
if len(sys.argv) > 2:
    titles = ["photo", "optimisation (transfer)", "trained network (--model)"]
    save(show_images([content, result, load_image(sys.argv[2])], titles, height=3.2), "two_ways.jpg")
