"""Make data/mosaic.png, a style image of our own: coloured Voronoi tiles with dark grout lines.

    python tools/make_mosaic.py [OUT]

The picture is a function of the seed alone, so running this again reproduces the committed file.
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

SIZE, TILES, SEED = 512, 260, 2016
# Warm and cool glazes, as in a Roman floor mosaic.
PALETTE = np.array([[178, 34, 34], [230, 159, 0], [240, 228, 66], [0, 114, 178], [86, 180, 233],
                    [0, 158, 115], [245, 240, 225], [120, 60, 30]], dtype=np.float32)


def mosaic(size: int = SIZE, tiles: int = TILES, seed: int = SEED) -> np.ndarray:
    """An (size, size, 3) uint8 mosaic: each pixel takes the colour of its nearest seed point."""
    rng = np.random.default_rng(seed)
    seeds = rng.uniform(0, size, (tiles, 2))
    colours = PALETTE[rng.integers(len(PALETTE), size=tiles)] * rng.uniform(0.8, 1.1, (tiles, 1))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    pixels = np.stack([yy.ravel(), xx.ravel()], 1)
    dist = np.sqrt(((pixels[:, None, :] - seeds[None, :, :].astype(np.float32)) ** 2).sum(-1))
    nearest2 = np.partition(dist, 1, axis=1)[:, :2]
    owner = dist.argmin(1)
    img = colours[owner]
    grout = (nearest2[:, 1] - nearest2[:, 0]) < 2.5  # pixels close to the border between two tiles
    img[grout] = [40, 35, 30]
    img += rng.normal(0, 6, img.shape)  # a little glaze texture inside each tile
    return img.clip(0, 255).astype(np.uint8).reshape(size, size, 3)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "data" / "mosaic.png")
    Image.fromarray(mosaic()).save(out, optimize=True)
    print(f"wrote {out}")
