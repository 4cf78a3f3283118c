"""The command lines end to end: quick_analyze.py as a program, make figures."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def test_make_figures_without_results(tmp_path):
    proc = subprocess.run(["make", "-s", "--no-print-directory", "figures", "RESULTS=", f"PYTHON={PYTHON}",
                           f"BUILD={tmp_path / 'build'}"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "RESULTS is not set" in proc.stderr


def test_command_line_end_to_end(full_dir):
    """The script runs as a program (shebang path, imports) and exits 2 on bad input."""
    script = ROOT / "analysis" / "quick_analyze.py"
    ok = subprocess.run([PYTHON, script, full_dir], capture_output=True, text=True)
    assert ok.returncode == 0 and "hakmem+timing" in ok.stdout
    bad = subprocess.run([PYTHON, script, full_dir / "logs"], capture_output=True, text=True)
    assert bad.returncode == 2 and "holds no results" in bad.stderr


def test_make_figures_writes_into_the_result_directory(tmp_path, synth):
    d = synth.write_dir(tmp_path / "r", synth.matrix(workloads=(("larson", "ops_per_sec"),), threads=(1,), reps=2,
                                                     timing=False))
    proc = subprocess.run(["make", "-s", "--no-print-directory", "figures", f"RESULTS={d}", f"PYTHON={PYTHON}",
                           f"BUILD={tmp_path / 'build'}"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (d / "figures" / "fig1_throughput_ratio.pdf").stat().st_size > 1000
    assert "skipped fig2_scaling" in proc.stdout
