"""`d2lstyle` and `python -m d2lstyle`: start the command line (d2lstyle/cli.py).

Loading torch takes a second or two, before `cli.main` can catch signals; a Ctrl-C or SIGTERM then ends here in
one line, with nothing computed, instead of a traceback. This module imports nothing heavy itself.
"""

import signal
import sys

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def main() -> int:
    stops: list[int] = []

    def stop(signum, frame):
        stops.append(signum)
        if len(stops) == 1:
            raise KeyboardInterrupt

    for signum in SIGNALS:
        signal.signal(signum, stop)
    try:
        from d2lstyle.cli import main as run  # loads torch

        return run()
    except KeyboardInterrupt:  # a stop before cli.main took the signals over
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        print("d2lstyle: interrupted while starting: nothing was computed", file=sys.stderr)
        return 143 if stops[:1] == [signal.SIGTERM] else 130


if __name__ == "__main__":
    sys.exit(main())
