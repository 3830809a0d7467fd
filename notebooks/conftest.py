"""pytest in notebooks/: the Chinese notebooks in zh/ are generated from the executed English ones, code and outputs
copied (tools/translate.py, tests/test_translation.py), so nbval does not run them a second time."""

collect_ignore = ["zh"]
