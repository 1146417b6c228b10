"""Time the engine's agency-year statistics (one SQL query) on a cached synthetic dataset.

```
python benchmarks/engine_statistics.py --employees 1000000
python benchmarks/engine_statistics.py --employees 1000000 --spark
```

Reads the raw Parquet files that ``benchmarks/report_scale.py`` caches under
``~/.cache/asn-eval-bench/employees-<N>-seed-<seed>/`` (run that script first; this one does
not synthesise). Raw files hold
``nip``, not the contract's ``employee_id``, so the script first writes a pseudonymised copy of
``performance`` and ``training`` (``employee_id = md5(nip)``, timestamps in microseconds so
that Spark 3.5 reads them) into a temporary folder; only the query is timed. The raw files are
not validated: a few dirty rows of the synthetic data are counted as they stand, which changes
nothing for timing.

Each engine runs in its own subprocess, so its peak resident memory (``ru_maxrss`` of that
child from ``os.wait4``, imports included) is its own. For Spark that is the Python driver
only; the JVM is a separate process whose memory is not included.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_CACHE = Path.home() / ".cache" / "asn-eval-bench"
YEARS = range(2019, 2026)

CHILD = """
import json, sys, time
from asn_eval.engine import (DuckDBBackend, SparkBackend, agency_year_statistics,
                             local_spark_session)
folder, engine = sys.argv[1], sys.argv[2]
paths = {name: f"{folder}/{name}.parquet" for name in ("performance", "training")}
years = range(2019, 2026)
started = time.perf_counter()
if engine == "spark":
    spark = local_spark_session(cores=2)
    session = time.perf_counter() - started
    started = time.perf_counter()
    stats = agency_year_statistics(SparkBackend(spark, paths), years)
else:
    session = 0.0
    stats = agency_year_statistics(DuckDBBackend(paths), years)
seconds = time.perf_counter() - started
stats.to_parquet(f"{folder}/statistics-{engine}.parquet")
print("RESULT", json.dumps({"engine": engine, "session_seconds": round(session, 2),
                  "query_seconds": round(seconds, 2), "agency_years": len(stats),
                  "employee_years": int(stats["n_employees"].sum())}))
"""


def pseudonymised_copy(raw: Path, folder: Path) -> float:
    """Write performance and training with employee_id instead of nip; return seconds."""
    import duckdb

    started = time.perf_counter()
    connection = duckdb.connect()
    connection.execute(
        f"COPY (SELECT md5(nip) AS employee_id, * EXCLUDE (nip) "
        f"FROM read_parquet('{raw}/performance.parquet')) "
        f"TO '{folder}/performance.parquet' (FORMAT parquet)"
    )
    connection.execute(
        f"COPY (SELECT md5(nip) AS employee_id, CAST(date AS TIMESTAMP) AS date, "
        f"* EXCLUDE (nip, date) FROM read_parquet('{raw}/training.parquet')) "
        f"TO '{folder}/training.parquet' (FORMAT parquet)"
    )
    connection.close()
    return time.perf_counter() - started


def run_child(folder: Path, engine: str) -> dict:
    """Run one engine in a subprocess; its result, wall time and peak resident memory."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), engine],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{engine} run failed with exit code {child.returncode}")
    line = [row for row in out.splitlines() if row.startswith("RESULT ")][-1]
    result = json.loads(line.removeprefix("RESULT "))
    result["process_seconds"] = round(time.perf_counter() - started, 2)
    result["peak_rss_gb"] = round(usage.ru_maxrss / 1024**2, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--spark", action="store_true", help="also run Spark local[2]")
    args = parser.parse_args(argv)

    raw = args.cache / f"employees-{args.employees}-seed-{args.seed}"
    if not (raw / ".complete").exists():
        print(f"No complete dataset at {raw}: run benchmarks/report_scale.py first")
        return 1
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmp:
        folder = Path(tmp)
        copy_seconds = pseudonymised_copy(raw, folder)
        print(f"pseudonymised copy: {copy_seconds:.1f} s")
        runs = [run_child(folder, "duckdb")]
        if args.spark:
            runs.append(run_child(folder, "spark"))
            import pandas as pd

            duck = pd.read_parquet(folder / "statistics-duckdb.parquet")
            spark = pd.read_parquet(folder / "statistics-spark.parquet")
            pd.testing.assert_frame_equal(spark, duck, rtol=1e-12, atol=1e-12)
            print("Spark and DuckDB statistics agree to 1e-12")
    for run in runs:
        print(json.dumps(run))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
