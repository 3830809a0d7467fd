"""`d2lstyle` and `python -m d2lstyle`: start the command line (d2lstyle/cli.py); `python -m d2lstyle.fast` too.

Loading torch takes a second or two. The signal rule (d2lstyle/command.py) holds from before it: a Ctrl-C or
SIGTERM then ends here in one line, with nothing computed, instead of a traceback.
"""

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
