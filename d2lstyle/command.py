"""What every command keeps (hand-written): one signal rule, quiet streams, one way to speak, one exit status.

`d2lstyle` and `python -m d2lstyle.fast train` run under `Command`. The signal rule: the first Ctrl-C (SIGINT) or
SIGTERM asks to stop, as a KeyboardInterrupt where the work is, so that the code that keeps the best so far runs;
from then on, and during every save (`STOP.saving()`, which files.write_whole enters), signals only wait: no save is
cut short. The exit status after a stop is 130 (Ctrl-C) or 143 (SIGTERM). This module imports only the standard
library, so that d2lstyle/__main__.py sets the rule before torch loads.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """The handler of SIGINT and SIGTERM, and what it received; `prog` names the command in what it says."""

    def __init__(self) -> None:
        self.prog, self.signals, self.saves = "d2lstyle", [], 0

    def __call__(self, signum: int, frame: object) -> None:
        self.signals.append(signum)
        if len(self.signals) == 1 and not self.saves:
            raise KeyboardInterrupt

    @contextmanager
    def saving(self) -> Iterator[None]:
        """A stretch no signal cuts short: one that comes meanwhile is kept in `signals`, for the caller to see."""
        self.saves += 1
        try:
            yield
        finally:
            self.saves -= 1

    def status(self, status: int) -> int:
        """The exit status: 130 after a Ctrl-C, 143 after a SIGTERM (the first one counts), else `status`."""
        return (143 if self.signals[0] == signal.SIGTERM else 130) if self.signals else status


STOP = Stop()


def say(kind: str, message: object) -> None:
    """One line on standard error: `PROG: KIND: MESSAGE`."""
    print(f"{STOP.prog}: {kind}: {message}", file=sys.stderr)


class QuietStream:
    """A standard stream that goes quiet where its reader has gone (`| head`, a closed terminal) or it was closed
    (`2>&-`), instead of raising in the middle of a run: the result matters more than the progress bar."""

    def __init__(self, stream):
        self.stream, self.broken = stream, stream is None

    def write(self, text: str) -> int:
        if not self.broken:
            try:  # a file name's bytes that are not UTF-8 (surrogates to Python) are shown as \xe9, not refused
                return self.stream.write(text.encode(errors="surrogateescape").decode(errors="backslashreplace"))
            except (OSError, ValueError):  # a broken pipe, a closed file
                self.go_quiet()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.stream.flush()
            except (OSError, ValueError):
                self.go_quiet()

    def go_quiet(self) -> None:
        self.broken = True
        try:  # Python flushes the real stream at exit: point its descriptor at /dev/null, so that stays quiet too
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


class Command:
    """`with Command(prog, program) as done: ... done.status = work()`, then `return done.exit_status()`: the work
    runs under the signal rule with quiet standard streams; an error it raises (a bad file, a bad value: an
    OptionError says it as an option) is one line and exit status 2; a stop before the work could keep anything is
    one line too. Nested in another (d2lstyle/__main__.py's) it only catches. After it, handlers and streams are
    restored; a `program` that was stopped ignores signals to its end instead, while torch's exit handlers run.
    Handlers are set from the main thread only (Python's rule). A context manager, not a function the work is
    passed to, so that the work's call chain is no deeper."""

    def __init__(self, prog: str, program: bool):
        self.prog, self.program, self.status, self.previous = prog, program, 0, {}
        self.nested = signal.getsignal(signal.SIGINT) is STOP

    def __enter__(self) -> Command:
        self.streams = sys.stdout, sys.stderr
        if not self.nested:
            STOP.__init__()
            STOP.prog = self.prog
            sys.stdout, sys.stderr = QuietStream(sys.stdout), QuietStream(sys.stderr)
            if threading.current_thread() is threading.main_thread():
                self.previous = {s: signal.signal(s, STOP) for s in SIGNALS}
        return self

    def __exit__(self, kind: type | None, err: BaseException | None, traceback: object) -> bool:
        if isinstance(err, (OSError, ValueError, RuntimeError)):
            say("error", err.option() if hasattr(err, "option") else err)
            self.status = 2
        elif isinstance(err, KeyboardInterrupt):  # before the work had anything to keep: it keeps what it has itself
            say("interrupted while starting", "nothing was computed")
            self.status = 130
        sys.stdout.flush()  # a broken pipe shows here, not in Python's flush at exit
        sys.stderr.flush()
        sys.stdout, sys.stderr = self.streams
        for signum, handler in self.previous.items():
            signal.signal(signum, signal.SIG_IGN if STOP.signals and self.program else handler)
        return isinstance(err, (OSError, ValueError, RuntimeError, KeyboardInterrupt))

    def exit_status(self) -> int:
        return STOP.status(self.status)
