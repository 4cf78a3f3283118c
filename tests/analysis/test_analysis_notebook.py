"""analysis/notebooks/vs_mimalloc.ipynb executes headless against a small result directory."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "analysis" / "notebooks" / "vs_mimalloc.ipynb"
NBCONVERT = shutil.which("jupyter-nbconvert", path="/usr/bin") or shutil.which("jupyter-nbconvert")


def test_first_cell_names_the_results():
    first = json.loads(NOTEBOOK.read_text())["cells"][0]
    source = "".join(first["source"])
    assert first["cell_type"] == "code" and "HAKMEM_RESULTS" in source and "results/reference" in source


@pytest.mark.skipif(NBCONVERT is None, reason="jupyter-nbconvert is not installed (Debian's jupyter-nbconvert)")
def test_notebook_executes(tmp_path, synth):
    rows = synth.matrix(workloads=(("larson", "ops_per_sec"),), reps=3)
    rows += [synth.row("larson", "hakmem", 1, 9, 1.0, status="timeout")]
    results_dir = synth.write_dir(tmp_path / "results", rows, trace=synth.learn_trace())
    env = {**os.environ, "HAKMEM_RESULTS": str(results_dir), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    proc = subprocess.run(
        [NBCONVERT, "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=python3",
         "--ExecutePreprocessor.timeout=180", "--output-dir", str(tmp_path), "--output", "executed.ipynb",
         str(NOTEBOOK)],
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    outputs = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 6
    text = "".join("".join(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    assert "| larson | 1 | hakmem | 3/4 |" in text and "timeout" in text
