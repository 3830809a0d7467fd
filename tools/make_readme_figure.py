"""Make docs/result.jpg, the README's picture: content, style and the command line's default result, side by side.

    python tools/make_readme_figure.py RESULT.png     # RESULT.png: what `python -m d2lstyle` wrote
"""

import sys
from pathlib import Path

from d2lstyle import load_image, show_images
from d2lstyle.batch import DEFAULT_CONTENT, DEFAULT_STYLE

result = load_image(sys.argv[1])
height = result.shape[-2]
images = [load_image(DEFAULT_CONTENT, height), load_image(DEFAULT_STYLE, height), result]
fig = show_images(images, ["content", "style", "python -m d2lstyle"], height=3.2)
out = Path(__file__).resolve().parent.parent / "docs" / "result.jpg"
fig.savefig(out, dpi=90, pil_kwargs={"quality": 85})
print(f"wrote {out}")
