"""examples/notebooks/quickstart.ipynb runs offline, top to bottom, in a fresh kernel, and shows
images (the display helper's HTML) and a trained model's accuracy."""
import os
import re

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quickstart_notebook_runs_offline(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(os.path.join(ROOT, "examples", "notebooks", "quickstart.ipynb"), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    grids = [o for o in outputs if "text/html" in o.get("data", {}) and "data:image/png;base64," in o.data["text/html"]]
    assert len(grids) == 3 and grids[0].data["text/html"].count("<img") == 8
    # the predictions' captions: three "description probability" pairs per image
    captions = re.findall(r"font-size:11px'>([^<]*)<", grids[1].data["text/html"])
    assert len(captions) == 8 and all(len(re.findall(r"\b[01]\.\d\d\b", c)) == 3 for c in captions), captions
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    accuracy = float(text.split("held-out accuracy:")[1].split()[0])
    assert accuracy >= 0.9, text
