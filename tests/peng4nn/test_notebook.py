"""The replication notebook: stored clean, and executed at smoke scale with papermill."""

from pathlib import Path

import nbformat
import papermill

NOTEBOOK = Path(__file__).parents[2] / "peng4nn" / "replication.ipynb"


def test_notebook_is_stored_without_outputs_and_has_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in ("scale", "datasets", "device", "seed"):
        assert f"{name} =" in tagged[0].source


def test_notebook_runs_at_smoke_scale(tmp_path):
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"scale": "smoke", "cache": str(tmp_path)},
        kernel_name="python3", progress_bar=False,
    )  # fmt: skip
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 5  # Fig. 3, 4, 5, 7, 8
