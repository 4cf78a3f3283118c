"""Bad input to quick_analyze.py and figures.py: one sentence naming the file, exit 2."""
import pytest

import figures
import quick_analyze


def one_sentence_error(capsys, main, args) -> str:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith(".")
    return lines[0]


@pytest.mark.parametrize("main", [quick_analyze.main, figures.main])
def test_directory_without_results(tmp_path, capsys, main):
    msg = one_sentence_error(capsys, main, [tmp_path])
    assert str(tmp_path) in msg and "runs.jsonl" in msg and "runs.csv" in msg


def test_parent_of_result_directories(tmp_path, capsys, synth):
    for name in ("run1", "run2"):
        synth.write_dir(tmp_path / name, [synth.row("w", "mimalloc", 1, 0, 1.0)])
    msg = one_sentence_error(capsys, quick_analyze.main, [tmp_path])
    assert "pass one of its result directories (run1, run2)" in msg


def test_missing_path(tmp_path, capsys):
    assert "does not exist" in one_sentence_error(capsys, quick_analyze.main, [tmp_path / "nope"])


BAD_FILES = {
    # name: (file name, content, what the sentence must say besides the file)
    "another format": ("results.txt", b"Throughput: 12 M ops/s\n", "neither"),
    "jsonl not JSON": ("runs.jsonl", b"Throughput: 12 M ops/s\nmore text\n", "line 1 is not JSON"),
    "binary csv": ("runs.csv", b"\xff\xfe\x00\x01garbage\x00\n\x89PNG\r\n", "runs.csv"),
    "missing columns": ("runs.csv", b"workload,ops_per_sec\nlarson,100\n", "allocator, threads"),
    "no metric": ("runs.jsonl", b'{"workload": "w", "allocator": "a", "threads": 1}\n', "ops_per_sec or ns_per_op"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file(tmp_path, capsys, case):
    name, content, says = BAD_FILES[case]
    f = tmp_path / name
    f.write_bytes(content)
    msg = one_sentence_error(capsys, quick_analyze.main, [f])
    assert str(f) in msg and says in msg


def test_empty_runs_file(tmp_path, capsys):
    (tmp_path / "runs.jsonl").write_text("")
    assert "holds no runs" in one_sentence_error(capsys, quick_analyze.main, [tmp_path])
