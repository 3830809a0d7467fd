"""Make the README's pictures: docs/result.jpg (content, style and the command line's default result, side by
side), docs/two_ways.jpg (the photo, the optimisation's picture, the network's) and docs/any_style.jpg (the photo and
`--fast`'s two transforms).

    python tools/make_readme_figure.py RESULT.png                # RESULT.png: what `python -m d2lstyle` wrote
    python tools/make_readme_figure.py RESULT.png NET.png   # NET.png: `python -m d2lstyle --model starry_night`
    python tools/make_readme_figure.py --any ADAIN.png WCT.png   # `python -m d2lstyle --fast [--transform wct]`
"""

import sys
from pathlib import Path

from d2lstyle import load_image, show_images
from d2lstyle.batch import DEFAULT_CONTENT, DEFAULT_STYLE

DOCS = Path(__file__).resolve().parent.parent / "docs"


def save(fig, name: str) -> None:
    fig.savefig(DOCS / name, dpi=90, pil_kwargs={"quality": 85})
    print(f"wrote {DOCS / name}")


if sys.argv[1] == "--any":
    pictures = [load_image(path) for path in sys.argv[2:4]]
    content = load_image(DEFAULT_CONTENT, pictures[0].shape[-2])
    titles = ["photo", "--fast (AdaIN)", "--fast --transform wct"]
    save(show_images([content, *pictures], titles, height=3.2), "any_style.jpg")
    sys.exit()
result = load_image(sys.argv[1])
height = result.shape[-2]
content = load_image(DEFAULT_CONTENT, height)
save(show_images([content, load_image(DEFAULT_STYLE, height), result], ["content", "style", "python -m d2lstyle"],
                 height=3.2), "result.jpg")
if len(sys.argv) > 2:
    titles = ["photo", "optimisation (transfer)", "trained network (--model)"]
    save(show_images([content, result, load_image(sys.argv[2])], titles, height=3.2), "two_ways.jpg")
