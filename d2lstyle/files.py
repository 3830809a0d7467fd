"""Writing a text file whole (hand-written, not generated from a notebook).

A reader never sees half a file, and a write that fails leaves nothing behind: the text goes to a temporary file in
the same folder, which is renamed over the target only once it is complete (`images.save_image` does the same for
pictures).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_whole(path: str | os.PathLike, text: str) -> Path:
    """Write `text` (UTF-8) to `path` through a temporary file and a rename; on any error the temporary file is
    deleted and `path` keeps what it held before. Returns the path."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
