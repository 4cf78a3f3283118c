"""Real programs on hakmem: LD_PRELOAD=build/lib/libhakmem.so against glibc.

Each program runs twice, on glibc and preloaded with hakmem, and must give
the same output and exit status; hakmem's statistics file (HAKMEM_STATS_FILE)
must prove that hakmem served it (allocations > 0, foreign_requests == 0).
Programs: a Python script that works the interpreter hard, sqlite3 building,
indexing and querying 100,000 rows, redis-server (on 127.0.0.1, a free port)
driven by redis-benchmark and read back with redis-cli, git on a clone of
this repository, and gcc compiling one of the project's workloads.
`make check-real` runs this file alone.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .relutil import BUILD, PYTHON, ROOT, run

LIBHAKMEM = BUILD / "lib" / "libhakmem.so"

pytestmark = pytest.mark.skipif(not LIBHAKMEM.exists(),
                                reason="build/lib/libhakmem.so is not built; run 'make hakmem'")

# Programs run with C locale and no user configuration, so both runs see the same world.
BASE_ENV = {"LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def hakmem_env(stats_dir: Path) -> dict:
    """Preload hakmem; every process writes its statistics to stats_dir/<pid>.json."""
    stats_dir.mkdir(parents=True, exist_ok=True)
    return {"LD_PRELOAD": str(LIBHAKMEM), "HAKMEM_STATS_FILE": str(stats_dir / "%p.json")}


FIGURES = BUILD / "reliability" / "real-programs.json"


def assert_served_by_hakmem(stats_dir: Path, what: str, processes: int = 1) -> dict:
    """Each process's statistics file shows no request handed elsewhere, and
    together they show allocations; at least `processes` processes wrote one.

    The totals of the last run of each program are kept in
    build/reliability/real-programs.json (docs/RELIABILITY.md quotes them)."""
    files = sorted(stats_dir.glob("*.json"))
    assert len(files) >= processes, (
        f"{what}: {len(files)} statistics files (HAKMEM_STATS_FILE) in {stats_dir}, expected "
        f"one per process, at least {processes}")
    total = {"processes": len(files), "allocations": 0, "frees": 0, "foreign_requests": 0}
    for f in files:
        data = json.loads(f.read_text())
        assert data.get("hakmem", "").startswith("hakmem"), f"{what}: not hakmem's statistics: {f}"
        assert data["foreign_requests"] == 0, (
            f"{what}: process {data.get('pid')} handed {data['foreign_requests']} requests elsewhere")
        for key in ("allocations", "frees", "foreign_requests"):
            total[key] += data.get(key, 0)
    assert total["allocations"] > 0, f"{what}: the statistics files show no allocation"
    figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures[what] = total
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    return total


def both(tmp_path: Path, name: str, cmd: list, timeout: float = 120, processes: int = 1, **kw):
    """Run cmd on glibc, then on hakmem; same exit status and stdout. Returns hakmem's run."""
    env = dict(BASE_ENV, **kw.pop("env", {}))
    glibc = run(cmd, timeout=timeout, env=env, **kw)
    stats = tmp_path / f"stats-{name}"
    hak = run(cmd, timeout=timeout, env=dict(env, **hakmem_env(stats)), **kw)
    assert hak.returncode == glibc.returncode == 0, (
        f"{name}: exit status glibc {glibc.returncode}, hakmem {hak.returncode}\n{hak.stderr[-3000:]}")
    assert hak.stdout == glibc.stdout, f"{name}: output differs between glibc and hakmem"
    assert_served_by_hakmem(stats, name, processes)
    return hak


PY_SCRIPT = r'''
import hashlib, random, re, json, collections
rng = random.Random(42)
h = hashlib.sha256()
for rnd in range(30):
    d = {}
    for i in range(20000):
        k = "k%d-%d" % (rng.randrange(5000), rnd)
        d[k] = [i, str(i) * (i % 7), {"x": i}]
    lst = sorted(d.items(), key=lambda kv: kv[0])
    s = "".join(k for k, _ in lst[:2000])
    words = re.findall(r"k(\d+)", s)
    c = collections.Counter(words)
    blob = json.dumps({"n": len(d), "top": c.most_common(5), "tail": lst[-3:]}, sort_keys=True)
    h.update(blob.encode())
    big = [bytearray(rng.randrange(1, 70000)) for _ in range(50)]
    h.update(str(sum(len(b) for b in big)).encode())
    del d, lst, big
print(h.hexdigest())
'''


def test_python_interpreter(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(PY_SCRIPT)
    out = both(tmp_path, "python", [PYTHON, script])
    assert len(out.stdout.strip()) == 64


SQL = """
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, s TEXT, v REAL);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 100000)
INSERT INTO t SELECT x, (x * 7919) % 1000, printf('row-%06d-%s', x, hex(x * 31)), x * 0.5 FROM n;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_s ON t(s);
SELECT count(*), sum(k), count(DISTINCT s), total(v) FROM t;
SELECT k, count(*), min(id), max(id) FROM t WHERE k BETWEEN 100 AND 110 GROUP BY k ORDER BY k;
SELECT s FROM t WHERE k = 500 ORDER BY id LIMIT 5;
SELECT a.k, count(*) FROM t a JOIN t b ON a.id = b.id + 1 AND a.k > b.k GROUP BY a.k % 10 ORDER BY 1;
UPDATE t SET s = upper(s) WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), group_concat(substr(s, 1, 3), '') FROM (SELECT s FROM t ORDER BY s DESC LIMIT 20);
PRAGMA integrity_check;
"""


def test_sqlite3_100k_rows(tmp_path):
    if not shutil.which("sqlite3"):
        pytest.skip("sqlite3 is not installed; run 'make deps'")
    sql = tmp_path / "work.sql"
    sql.write_text(SQL)
    for name in ("glibc", "hakmem"):
        (tmp_path / f"{name}.db").unlink(missing_ok=True)
    # A fresh database file per run: the same statements give the same answers.
    cmd = ["sh", "-c", 'rm -f "$DB" && sqlite3 "$DB" < "$SQL"']
    out = both(tmp_path, "sqlite3", cmd, processes=2,  # sh, sqlite3
               env={"DB": str(tmp_path / "t.db"), "SQL": str(sql)})
    assert out.stdout.startswith("100000|") and "ok" in out.stdout.splitlines()


def test_git_on_a_clone_of_the_repository(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(ROOT), str(clone)], check=True,
                   capture_output=True, timeout=120)
    script = ("git log --stat -n 40 --format='%H %an %s' && git status --porcelain && "
              "git grep -c hak_ HEAD -- '*.h' && git rev-list --count HEAD && "
              "git fsck --no-progress && git log -p -n 3 --format=%H")
    out = both(tmp_path, "git", ["sh", "-c", script], cwd=clone, processes=7)  # sh + 6 git
    assert out.stdout


def test_gcc_compiles_a_workload(tmp_path):
    src = ROOT / "workloads" / "tiny_hot.c"
    if not src.exists():
        pytest.skip("workloads/tiny_hot.c does not exist yet")
    # Assembly to stdout: the driver, cc1 and their allocations all run on hakmem.
    cmd = ["gcc", "-O2", "-std=gnu11", "-I", str(ROOT / "workloads" / "common"), "-S", "-o", "-",
           str(src)]
    out = both(tmp_path, "gcc", cmd, timeout=180, processes=2)  # the driver, cc1
    assert "main:" in out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_round(tmp_path: Path, name: str, env: dict,
                client_env: dict) -> tuple[int, str, list[str]]:
    """Start redis-server (environment `env`), drive it with redis-benchmark and read
    back with redis-cli (`client_env`); (server exit status, readback, test names)."""
    port = str(free_port())
    workdir = tmp_path / f"redis-{name}"
    workdir.mkdir()
    full_env = dict(os.environ, **BASE_ENV, **env)
    server = subprocess.Popen(["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no",
                               "--protected-mode", "yes"],
                              env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cli = ["redis-cli", "-h", "127.0.0.1", "-p", port]
    try:
        deadline = time.monotonic() + 30
        while run(cli + ["PING"], timeout=10).stdout.strip() != "PONG":
            assert server.poll() is None, f"redis-server ({name}) exited: {server.stdout.read()}"
            assert time.monotonic() < deadline, f"redis-server ({name}) did not answer in 30 s"
            time.sleep(0.1)
        bench = run(["redis-benchmark", "-h", "127.0.0.1", "-p", port, "-n", "20000", "-c", "8",
                     "-q", "-t", "set,get,incr,lpush,rpop,sadd,hset,mset"],
                    timeout=300, env=dict(BASE_ENV, **client_env))
        assert bench.returncode == 0, bench.stderr
        tests = sorted(line.split(":")[0].strip() for line in bench.stdout.replace("\r", "\n").splitlines()
                       if "requests per second" in line)
        # Read back what was written: the benchmark's counter and our own keys.
        script = ("SET rel:key hello\nRPUSH rel:list a b c\nGET rel:key\nLRANGE rel:list 0 -1\n"
                  "GET counter:__rand_int__\nEXISTS key:__rand_int__\nSCARD myset\n")
        readback = run(cli, timeout=30, input=script, env=client_env)
        assert readback.returncode == 0, readback.stderr
        run(cli + ["SHUTDOWN", "NOSAVE"], timeout=30)
        code = server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return code, readback.stdout, tests


@pytest.mark.slow
def test_redis_server_benchmark_and_readback(tmp_path):
    for tool in ("redis-server", "redis-cli", "redis-benchmark"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed; run 'make deps' (redis-server, redis-tools)")
    glibc = redis_round(tmp_path, "glibc", {}, {})
    server_stats, client_stats = tmp_path / "stats-redis-server", tmp_path / "stats-redis-clients"
    # Server, benchmark and cli all on hakmem (server and clients write their own statistics).
    hak = redis_round(tmp_path, "hakmem", hakmem_env(server_stats), hakmem_env(client_stats))
    assert hak[0] == glibc[0] == 0, f"redis-server exit status: glibc {glibc[0]}, hakmem {hak[0]}"
    assert hak[1] == glibc[1], f"redis read back differs:\nglibc:\n{glibc[1]}\nhakmem:\n{hak[1]}"
    assert "hello" in hak[1] and "20000" in hak[1]
    assert hak[2] == glibc[2] and len(hak[2]) >= 8
    assert_served_by_hakmem(server_stats, "redis-server")
    assert_served_by_hakmem(client_stats, "redis-benchmark and redis-cli", processes=2)
