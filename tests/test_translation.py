"""The Chinese notebooks are generated from the English ones and the translation tables, and kept in step (issue 39)."""

from __future__ import annotations

import json
import shutil

import pytest

from tools import translate
from tools.export import ROOT

NOTEBOOKS = ROOT / "notebooks"
TABLES = sorted((NOTEBOOKS / "zh").glob("*.json"))


def test_the_chinese_notebooks_are_what_the_tool_writes_from_current_translations(capsys):
    assert translate.main(["--check"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("table", TABLES, ids=lambda p: p.stem)
def test_a_chinese_notebook_has_the_english_code_and_outputs_and_chinese_prose(table):
    english = json.loads((NOTEBOOKS / f"{table.stem}.ipynb").read_text())["cells"]
    chinese = json.loads(table.with_suffix(".ipynb").read_text())["cells"]
    assert [c["id"] for c in chinese] == [c["id"] for c in english]
    for en, zh in zip(english, chinese, strict=True):
        if en["cell_type"] == "code":
            assert zh == en  # source, outputs and metadata: nbval's verdict on the English holds for the Chinese
        else:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in "".join(zh["source"])), f"cell {zh['id']} is not Chinese"


def test_an_english_edit_without_its_translation_is_named_and_nothing_is_written(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    (notebooks / "zh").mkdir(parents=True)
    shutil.copy(NOTEBOOKS / "02_content_loss.ipynb", notebooks)
    shutil.copy(NOTEBOOKS / "zh" / "02_content_loss.json", notebooks / "zh")
    assert translate.main([], notebooks) == 0 and translate.main(["--check"], notebooks) == 0
    written = (notebooks / "zh" / "02_content_loss.ipynb").read_text()
    nb = json.loads((notebooks / "02_content_loss.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["id"] == "sum")
    cell["source"].append("\n- One more sentence in English.")
    (notebooks / "02_content_loss.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    capsys.readouterr()
    assert translate.main(["--check"], notebooks) == 1
    assert capsys.readouterr().err == ("02_content_loss.ipynb cell sum: the English changed since it was translated: "
                                       "translate it again and update its en_sha256\n")
    assert translate.main([], notebooks) == 1 and (notebooks / "zh" / "02_content_loss.ipynb").read_text() == written


def test_a_missing_translation_and_a_hand_edited_chinese_notebook_are_named(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    (notebooks / "zh").mkdir(parents=True)
    shutil.copy(NOTEBOOKS / "04_total_variation.ipynb", notebooks)
    table = json.loads((NOTEBOOKS / "zh" / "04_total_variation.json").read_text())
    (notebooks / "zh" / "04_total_variation.json").write_text(json.dumps(table, ensure_ascii=False))
    assert translate.main([], notebooks) == 0
    target = notebooks / "zh" / "04_total_variation.ipynb"
    target.write_text(target.read_text().replace("小结", "总结"))
    assert translate.main(["--check"], notebooks) == 1
    assert "notebooks/zh/04_total_variation.ipynb: not what the tool writes" in capsys.readouterr().err
    del table["cells"]["sum"]
    (notebooks / "zh" / "04_total_variation.json").write_text(json.dumps(table, ensure_ascii=False))
    assert translate.main(["--check"], notebooks) == 1
    assert "04_total_variation.ipynb cell sum: no translation" in capsys.readouterr().err


def test_the_chinese_readme_lists_every_chinese_notebook_and_is_linked_first():
    readme = (ROOT / "README.zh.md").read_text()
    assert all(f"`{table.stem}`" in readme for table in TABLES) and "notebooks/zh/" in readme
    assert "README.zh.md" in "\n".join((ROOT / "README.md").read_text().splitlines()[:3])
