"""Progress of a named model's export: a bar redrawn in place on a terminal, a bar updated in place
in a notebook, one line per step elsewhere; always a last line with the seconds, or the failure."""
import io
import re
import time

import pytest

from sparkdl import _progress
from sparkdl._progress import Progress

STEPS = ["reading the weights", "freezing the graph", "writing the export"]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(progress, pause=0.0):
    with progress as p:
        for name in STEPS:
            p.step(name)
            time.sleep(pause)


def test_logs_get_one_line_per_step_and_the_seconds():
    out = io.StringIO()
    run(Progress("sparkdl: exporting M", STEPS, done="sparkdl: exported M", stream=out))
    lines = out.getvalue().splitlines()
    assert lines[:4] == ["sparkdl: exporting M", "  [1/3] reading the weights...", "  [2/3] freezing the graph...",
                         "  [3/3] writing the export..."]
    assert re.fullmatch(r"sparkdl: exported M in \d+ s", lines[4]) and len(lines) == 5
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_a_bar_redrawn_in_place_while_a_step_runs():
    out = Terminal()
    assert _progress.display_mode(out) == "tty"
    run(Progress("sparkdl: exporting M", STEPS, stream=out, tick=0.02), pause=0.15)
    text = out.getvalue()
    frames = [f for f in text.split("\r\033[K") if f]
    assert text.count("\n") == 1 and text.endswith("\n"), "one line, redrawn"
    bars = [re.search(r"\[([#-]{24})\] (\d)/3 ([a-z ]+) (\d+) s", f) for f in frames[:-1]]
    assert all(bars), frames
    filled = [b.group(1).count("#") for b in bars]
    assert filled == sorted(filled) and filled[-1] == 16 and 0 in filled, "the bar fills step by step"
    assert sum(b.group(3) == "freezing the graph" for b in bars) >= 3, "redrawn while a step runs (the clock)"
    assert re.fullmatch(r"done in \d+ s\n", frames[-1])


def test_a_notebook_gets_one_html_bar_updated_in_place():
    shown = []

    class Handle:
        def update(self, markup):
            shown.append(str(getattr(markup, "data", markup)))

    def display(markup):
        shown.append(markup)
        return Handle()

    run(Progress("sparkdl: exporting <M>", STEPS, stream=io.StringIO(), mode="html", display=display, tick=0.02),
        pause=0.05)
    values = [int(re.search(r'<progress value="(\d)" max="3"', m).group(1)) for m in shown]
    assert values == sorted(values) and values[0] == 0 and values[-1] == 3
    assert all("sparkdl: exporting &lt;M&gt;" in m for m in shown), "the title, escaped"
    assert re.search(r"done in \d+ s", shown[-1])


def test_a_failure_is_reported_and_raised():
    out = Terminal()
    with pytest.raises(RuntimeError, match="no weights"):
        with Progress("sparkdl: exporting M", STEPS, stream=out, tick=0.02) as p:
            p.step("reading the weights")
            raise RuntimeError("no weights")
    assert re.search(r"\r\033\[Kfailed after \d+ s \(RuntimeError: no weights\)\n$", out.getvalue())


def test_where_it_draws(monkeypatch):
    class ZMQInteractiveShell:
        pass

    import IPython

    assert _progress.display_mode(io.StringIO()) == "lines"
    monkeypatch.setattr(IPython, "get_ipython", lambda: ZMQInteractiveShell())
    assert _progress.display_mode(io.StringIO()) == "html"
    monkeypatch.setenv("SPARKDL_PROGRESS", "lines")
    assert _progress.display_mode(Terminal()) == "lines"


def test_in_a_jupyter_kernel_the_bar_is_one_html_output_updated_in_place(tmp_path):
    """A real kernel (nbclient): the export's progress is a single display output, updated to its
    last state, and nothing on stderr."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import time\n"
        "from sparkdl._progress import Progress\n"
        "with Progress('sparkdl: exporting M', ['reading', 'freezing'], done='sparkdl: exported M', tick=0.05) as p:\n"
        "    p.step('reading')\n"
        "    time.sleep(0.3)\n"
        "    p.step('freezing')\n")])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"], outputs
    markup = outputs[0].data["text/html"]
    assert '<progress value="2" max="2"' in markup and re.search(r"sparkdl: exported M in \d+ s", markup)
