"""Time of the SQL that ``tagger sql`` prints, run by DuckDB on generated snapshot tables.

Run on demand, never in the test suite:

    python benchmarks/bench_sql.py                       # 1M and 10M users
    python benchmarks/bench_sql.py --users 1000000 --threads 2

The snapshot (car_app features) is generated inside DuckDB and written as Parquet to
``benchmarks/.data/`` (git-ignored). For each size the script prints the wall and CPU
time of the per-user query (``--what users``, written to Parquet so every row is
computed) and of the metrics query (``--what metrics``).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

DATA = Path(__file__).resolve().parent / ".data"
MONTH = "2024-07"


def generate(users: int) -> Path:
    """A snapshot month of ``users`` rows (dates spread over three years, NULLs, counts 0-9)."""
    path = DATA / f"snapshot_{users}.parquet"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    usage = ", ".join(f"CASE WHEN random() < 0.3 THEN NULL ELSE CAST(floor(random() * 10) AS BIGINT) END "
                      f"AS usage_{key}" for key in ("control", "content", "community", "after_sales", "activity"))
    with duckdb.connect() as con:
        con.execute(f"""
            COPY (
              SELECT lpad(CAST(i AS VARCHAR), 10, '0') AS user_id, reg AS register_date,
                     CASE WHEN random() < 0.1 THEN NULL ELSE least(DATE '2024-07-31',
                          reg + CAST(floor(random() * 900) AS INTEGER)) END AS last_active,
                     CASE WHEN random() < 0.1 THEN NULL ELSE least(DATE '2024-06-30',
                          reg + CAST(floor(random() * 800) AS INTEGER)) END AS prev_active,
                     CASE WHEN random() < 0.2 THEN NULL ELSE random() < 0.5 END AS drove,
                     {usage},
                     CASE WHEN random() < 0.5 THEN '远程控车' ELSE '' END AS top_feature
              FROM (SELECT i, DATE '2021-07-01' + CAST(floor(random() * 1126) AS INTEGER) AS reg
                    FROM range({users}) AS t(i))
            ) TO '{path}' (FORMAT parquet)""")
    return path


def sql_for(what: str) -> str:
    """The query, printed by the real CLI."""
    done = subprocess.run([sys.executable, "-m", "tagger", "sql", "--dialect", "duckdb", "--month", MONTH,
                           "--preset", "car_app", "--what", what, "-q"], check=True, capture_output=True, text=True)
    return done.stdout.strip().rstrip(";")


def timed(con: duckdb.DuckDBPyConnection, statement: str) -> tuple[float, float]:
    start_cpu = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    con.execute(statement).fetchall()
    wall = time.perf_counter() - start
    end_cpu = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (end_cpu.ru_utime - start_cpu.ru_utime) + (end_cpu.ru_stime - start_cpu.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    users_sql, metrics_sql = sql_for("users"), sql_for("metrics")
    print(f"{'users':>12} {'query':>8} {'wall s':>8} {'cpu s':>8}")
    for users in args.users:
        path = generate(users)
        with duckdb.connect() as con:
            con.execute(f"SET threads = {args.threads}")
            con.execute(f"CREATE VIEW users AS SELECT * FROM read_parquet('{path}')")
            out = DATA / f"tagged_{users}.parquet"
            for name, statement in (("users", f"COPY ({users_sql}) TO '{out}' (FORMAT parquet)"),
                                    ("metrics", metrics_sql)):
                wall, cpu = timed(con, statement)
                print(f"{users:>12,} {name:>8} {wall:>8.2f} {cpu:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
