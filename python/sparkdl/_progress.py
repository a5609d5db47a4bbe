"""Progress of sparkdl's long one-off steps (a named model's export: reading its weights, freezing
its graph, writing it), shown the way the place the user watches can show it:

- a Jupyter notebook: a bar (HTML ``<progress>``) updated in place in the cell's output;
- a terminal (stderr is a TTY): a bar redrawn in place on one line of stderr;
- anywhere else (logs, files, pipes): one line per step on stderr, nothing redrawn.

On a notebook or terminal the elapsed time ticks while a step runs, so a 30-second freeze is
visibly alive. ``SPARKDL_PROGRESS=lines`` forces the plain lines everywhere.
"""
from __future__ import annotations

import html
import os
import sys
import threading
import time
from types import TracebackType
from typing import IO, Any, Callable, Optional, Sequence, Type

__all__ = ["Progress", "display_mode"]

BAR_WIDTH = 24


def _in_notebook() -> bool:
    """True in a Jupyter kernel (IPython's ZMQ shell), where HTML output updates in place."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def display_mode(stream: IO[str]) -> str:
    """"html" (a notebook), "tty" (a terminal) or "lines" (anything else, or ``SPARKDL_PROGRESS=lines``)."""
    if os.environ.get("SPARKDL_PROGRESS", "").lower() == "lines":
        return "lines"
    if _in_notebook():
        return "html"
    isatty = getattr(stream, "isatty", None)
    return "tty" if isatty is not None and isatty() else "lines"


class _NotebookOutput:
    """One HTML output of the running Jupyter cell, updated in place."""

    def __init__(self, markup: str) -> None:
        import IPython.display

        self._ipython: Any = IPython.display
        self._handle = self._ipython.display(self._ipython.HTML(markup), display_id=True)

    def update(self, markup: str) -> None:
        self._handle.update(self._ipython.HTML(markup))


class Progress:
    """A task of named ``steps`` under a ``title`` line, as a context manager::

        with Progress("sparkdl: exporting MobileNetV2 ...", ["reading the weights", "freezing"]) as p:
            p.step("reading the weights")
            ...
            p.step("freezing")
            ...

    On leaving, the last line says ``done`` and the seconds taken (the ``done`` text given), or
    that the task failed; an exception is never swallowed. ``mode`` (default: from
    :func:`display_mode`), ``stream`` (stderr), ``display`` (for "html": markup -> an output with
    ``update(markup)``; a notebook cell's by default) and ``tick``
    (seconds between redraws) are there for tests.
    """

    def __init__(self, title: str, steps: Sequence[str], done: str = "done", stream: Optional[IO[str]] = None,
                 mode: Optional[str] = None, display: Optional[Callable[[str], Any]] = None,
                 tick: float = 0.5) -> None:
        self.title, self.steps, self.done_text = title, list(steps), done
        self.stream = stream if stream is not None else sys.stderr
        self.mode = mode or display_mode(self.stream)
        self._display = display or _NotebookOutput
        self._tick = tick
        self._index = -1  # the step running (-1: none yet)
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._handle: Any = None

    # ---- what a caller uses

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        if self.mode == "lines":
            self._write(self.title + "\n")
        else:
            self._draw()
            self._thread = threading.Thread(target=self._ticker, name="sparkdl-progress", daemon=True)
            self._thread.start()
        return self

    def step(self, name: str) -> None:
        """Starts step ``name`` (one of ``steps``)."""
        with self._lock:
            self._index = self.steps.index(name)
        if self.mode == "lines":
            self._write("  [%d/%d] %s...\n" % (self._index + 1, len(self.steps), name))
        else:
            self._draw()

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException],
                 trace: Optional[TracebackType]) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        seconds = time.monotonic() - self._started
        if error is None:
            last = "%s in %.0f s" % (self.done_text, seconds)
        else:
            last = "failed after %.0f s (%s: %s)" % (seconds, type(error).__name__, str(error).splitlines()[0][:200]
                                                    if str(error) else "")
        if self.mode == "lines":
            self._write(last + "\n")
        elif self.mode == "tty":
            self._write("\r\033[K%s\n" % last)
        else:
            self._draw(final=last, succeeded=error is None)

    # ---- drawing

    def _ticker(self) -> None:
        while not self._stop.wait(self._tick):
            self._draw()

    def _state(self) -> tuple[int, int, str, float]:
        with self._lock:
            index = self._index
        done = max(index, 0)  # steps finished: those before the one running
        name = self.steps[index] if index >= 0 else "starting"
        return done, len(self.steps), name, time.monotonic() - self._started

    def _draw(self, final: Optional[str] = None, succeeded: bool = True) -> None:
        done, total, name, seconds = self._state()
        if self.mode == "tty":
            filled = BAR_WIDTH * done // total
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self._write("\r\033[K%s [%s] %d/%d %s %.0f s" % (self.title, bar, done + 1, total, name, seconds))
            return
        value = total if final is not None and succeeded else done
        text = final if final is not None else "[%d/%d] %s... %.0f s" % (done + 1, total, name, seconds)
        markup = ('<div class="sparkdl-progress"><span>%s</span><br><progress value="%d" max="%d" '
                  'style="width: 24em"></progress> <span>%s</span></div>'
                  % (html.escape(self.title), value, total, html.escape(text)))
        if self._handle is None:
            self._handle = self._display(markup)
        else:
            self._handle.update(markup)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stream must not break the work being reported
            pass

