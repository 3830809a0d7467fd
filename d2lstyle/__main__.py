"""`d2lstyle`, `python -m d2lstyle` and `python -m d2lstyle.fast`: the signal rule (d2lstyle/command.py) holds
before torch loads (a second or two), so that a Ctrl-C then ends in one line, not a traceback."""

import importlib
import sys

from d2lstyle.command import Command


def main(module: str = "d2lstyle.cli") -> int:
    """Import `module` (which loads torch) and run its `main()` under the signal rule; returns the exit status."""
    with Command("d2lstyle" if module == "d2lstyle.cli" else module, program=True) as done:
        done.status = importlib.import_module(module).main()
    return done.exit_status()


if __name__ == "__main__":
    sys.exit(main())
