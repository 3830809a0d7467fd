"""Make the README's pictures: docs/result.jpg (content, style and the command line's default result, side by
side) and, given two more results, docs/three_ways.jpg (the photo, the optimisation's, the network's and the
one-pass transform's pictures).

    python tools/make_readme_figure.py RESULT.png                # RESULT.png: what `python -m d2lstyle` wrote
    python tools/make_readme_figure.py RESULT.png NET.png ANY.png
    # NET.png: `python -m d2lstyle --model starry_night`; ANY.png: `python -m d2lstyle --fast`
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
if len(sys.argv) > 3:
    titles = ["photo", "optimization (transfer)", "trained network (--model)", "any style in one pass (--fast)"]
    pictures = [content, result, *(load_image(path) for path in sys.argv[2:4])]
    save(show_images(pictures, titles, ncols=4, height=2.6), "three_ways.jpg")
