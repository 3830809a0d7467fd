"""What every command keeps (hand-written): the signal rule of docs/command_line.md (a first signal is a
KeyboardInterrupt where the work is; later ones, and all during `STOP.saving()`, wait), quiet streams, one way to
speak, one exit status. Only the standard library: d2lstyle/__main__.py sets the rule before torch loads."""

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress


class Stop:
    """The handler of SIGINT and SIGTERM, and what it received; `prog` names the command in what it says."""

    def __init__(self, prog: str = "d2lstyle") -> None:
        self.prog, self.signals, self.saves = prog, [], 0

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


STOP = Stop()


def say(kind: str, message: object) -> None:
    """One line on standard error: `PROG: KIND: MESSAGE`."""
    print(f"{STOP.prog}: {kind}: {message}", file=sys.stderr)


class QuietStream:
    """A standard stream that goes quiet where its reader has gone (`| head`, a closed terminal) or it was closed
    (`2>&-`), instead of raising in the middle of a run: the result matters more than the progress bar."""

    def __init__(self, stream):
        self.stream = open(os.devnull, "w") if stream is None else stream

    def write(self, text: str) -> int:
        # a file name's bytes that are not UTF-8 (surrogates to Python) are shown as \xe9, not refused
        self.quietly(self.stream.write, text.encode(errors="surrogateescape").decode(errors="backslashreplace"))
        return len(text)

    def flush(self) -> None:
        self.quietly(self.stream.flush)

    def quietly(self, call, *args) -> None:
        try:
            call(*args)
        except (OSError, ValueError):  # a broken pipe, a closed file: quiet from now on
            with suppress(OSError, ValueError):  # Python flushes the real stream at exit: to /dev/null, quietly too
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
            self.stream = open(os.devnull, "w")

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def keep_checkpoint(save: Callable[[], object], step: int) -> None:
    """`save()` a checkpoint during a run: one that cannot be written (a full disk) is a warning, the run goes on;
    a signal that waited for the save stops the run now (KeyboardInterrupt: the run keeps its best so far)."""
    try:
        save()
    except OSError as err:
        say("warning", f"no checkpoint written at step {step} ({err}): the run goes on")
    if STOP.signals:
        raise KeyboardInterrupt


class Command:
    """`with Command(prog, program) as done: done.status = work()`: the work under the signal rule, with quiet streams;
    an error is one line and status 2, an uncaught stop one line and 130. Nested, it only catches. After it, handlers
    and streams are restored; a stopped `program` ignores signals to its end instead (torch's exit handlers run)."""

    def __init__(self, prog: str, program: bool):
        self.prog, self.program, self.status, self.previous = prog, program, 0, {}
        self.streams, self.nested = (sys.stdout, sys.stderr), signal.getsignal(signal.SIGINT) is STOP

    def __enter__(self) -> "Command":
        if not self.nested:
            STOP.__init__(self.prog)
            sys.stdout, sys.stderr = QuietStream(sys.stdout), QuietStream(sys.stderr)
            if threading.current_thread() is threading.main_thread():
                self.previous = {s: signal.signal(s, STOP) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, kind: type | None, err: BaseException | None, traceback: object) -> bool:
        if isinstance(err, KeyboardInterrupt):  # before the work had anything to keep: it keeps what it has itself
            say("interrupted while starting", "nothing was computed")
        elif isinstance(err, (OSError, ValueError, RuntimeError)):
            say("error", err.option() if hasattr(err, "option") else err)
        self.status = {KeyboardInterrupt: 130, None: self.status}.get(kind, 2)
        sys.stdout.flush()  # a broken pipe shows here, not in Python's flush at exit
        sys.stderr.flush()
        sys.stdout, sys.stderr = self.streams
        for signum, handler in self.previous.items():
            signal.signal(signum, signal.SIG_IGN if STOP.signals and self.program else handler)
        return isinstance(err, (OSError, ValueError, RuntimeError, KeyboardInterrupt))

    def exit_status(self) -> int:
        """130 after a Ctrl-C, 143 after a SIGTERM (the first signal counts), else the work's status."""
        return (143 if STOP.signals[0] == signal.SIGTERM else 130) if STOP.signals else self.status
