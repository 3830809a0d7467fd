import os

import pytest

from d2lstyle.files import remove_stale_parts, write_text_whole, write_whole
from tests.conftest import dead_pid


def test_writes_the_text_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "record.json"
    assert write_text_whole(path, "{\"steps\": 3} é") == path
    assert path.read_text(encoding="utf-8") == "{\"steps\": 3} é"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("old")
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate cannot be written as UTF-8, after the file is opened
        write_text_whole(path, "new \ud800")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_a_new_file_gets_the_mode_open_would_give_and_a_replaced_file_keeps_its_own(tmp_path):
    import os
    import stat

    old = os.umask(0o027)
    try:
        new = write_text_whole(tmp_path / "new.txt", "x")
        assert stat.S_IMODE(new.stat().st_mode) == 0o640  # 0666 less the umask; mkstemp alone gives 0600
        kept = tmp_path / "kept.txt"
        kept.write_text("old")
        kept.chmod(0o644)
        write_text_whole(kept, "new")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o644 and kept.read_text() == "new"
    finally:
        os.umask(old)


@pytest.mark.parametrize("name", ["out.psd", "out.xbm", "out.fits", "out.wmf"])
def test_formats_pillow_reads_but_cannot_write_in_colour_are_refused_by_name(tmp_path, name):
    from d2lstyle.files import image_format

    with pytest.raises(ValueError, match=f"{name}: Pillow cannot write a colour picture as .*: end the name with .png"):
        image_format(tmp_path / name)
    assert image_format(tmp_path / "out.webp") == "WEBP"


def test_every_format_image_format_accepts_can_hold_a_colour_picture(tmp_path):
    import io
    import warnings

    from PIL import Image

    from d2lstyle.files import image_format

    accepted = []
    for extension in sorted(Image.registered_extensions()):
        try:
            fmt = image_format(tmp_path / f"out{extension}")
        except ValueError:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Pillow's IM format is deprecated, still written
            Image.new("RGB", (2, 2)).save(io.BytesIO(), format=fmt)  # raises if Pillow cannot write it after all
        accepted.append(extension)
    assert {".png", ".jpg", ".tif", ".webp"} <= set(accepted) and ".psd" not in accepted


@pytest.mark.skipif(os.name == "nt", reason="leftovers are kept on Windows")
def test_leftovers_of_a_killed_writer_are_deleted_and_those_of_a_running_one_kept(tmp_path):
    out = tmp_path / "out[1].png"  # a name with glob characters
    stale = tmp_path / f".out[1].png-{dead_pid()}-x1y2.part"
    live = tmp_path / f".out[1].png-{os.getpid()}-z3.part"
    other = tmp_path / f".other.png-{dead_pid()}-q.part"  # another output's
    for p in (stale, live, other):
        p.write_bytes(b"half")
    assert remove_stale_parts(out) == [stale]
    assert not stale.exists() and live.exists() and other.exists()


def test_write_whole_names_its_temporary_file_with_its_process_id(tmp_path):
    seen = []

    def write(f):
        seen.extend(p.name for p in tmp_path.iterdir())  # only the temporary file is there yet
        f.write(b"x")

    write_whole(tmp_path / "a.bin", write)
    assert seen[0].startswith(f".a.bin-{os.getpid()}-") and seen[0].endswith(".part")
