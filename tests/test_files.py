import pytest

from d2lstyle.files import write_text_whole


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
