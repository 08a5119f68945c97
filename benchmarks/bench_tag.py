"""Time and peak memory of ``tagger tag`` and ``tagger refresh``, next to their baselines.

Run on demand, never in the test suite:

    python benchmarks/bench_tag.py                          # 100k users, xlsx and csv
    python benchmarks/bench_tag.py --users 1000000 --formats xlsx
    python benchmarks/bench_tag.py --users 1000000 --formats xlsx --no-pandas   # skip the slow baseline
    PYTHONPATH=../old python benchmarks/bench_tag.py --no-floor --no-pandas     # another checkout, to compare

Every measurement runs in a fresh subprocess so its peak RSS is its own (its peak PSS, the
writer's forked helper included, is sampled too), and all of them run in one invocation so
their ratios hold on a busy machine. The baselines:

- **xlsxwriter floor**: the fastest reader (fastexcel) plus xlsxwriter ``constant_memory``
  writing the same Users-sheet cells — every per-user formula with its cached value — cell
  by cell through ``write_formula``/``write_string``/``write_number``, with xlsxwriter's
  per-formula search for post-2007 functions skipped (tagger's formulas use none). tagger writes far
  more than that (ten more sheets, validation, history), so ``tag / floor`` below 1 is real.
- **pandas + openpyxl**: ``pd.read_excel`` then ``DataFrame.to_excel`` of the export, values
  only: what a script without tagger does.

The generated exports are cached in ``benchmarks/.data/`` (git-ignored) because
generating an xlsx takes longer than tagging it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / ".data"

PRELUDE = r"""
import json, os, resource, sys, threading, time
from pathlib import Path
start = time.perf_counter()

# Peak RSS counts this process only; the writer's forked helper shares most of its pages.
# The proportional set size (PSS) of this process and its children, sampled twice a second,
# is what the run costs the machine, the helper included (Linux only).
tree_peak = [0]
def _pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
    except OSError:
        return 0
def _sample_tree():
    me = os.getpid()
    while True:
        try:
            with open(f"/proc/{me}/task/{me}/children") as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            children = []
        tree_peak[0] = max(tree_peak[0], _pss(me) + sum(_pss(c) for c in children))
        time.sleep(0.5)
if os.path.exists("/proc/self/smaps_rollup"):
    threading.Thread(target=_sample_tree, daemon=True).start()

class Timer:
    def __init__(self):
        self.times, self.name, self.t = {}, None, time.perf_counter()
    def step(self, name, total=None):
        self._close(); self.name = name
    def advance(self, amount=1):
        pass
    def _close(self):
        now = time.perf_counter()
        if self.name:
            self.times[self.name] = round(now - self.t, 2)
        self.t = now

def report(**extra):
    print(json.dumps({"seconds": round(time.perf_counter() - start, 2),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "peak_pss_mb": round(tree_peak[0] / 1024) or None, **extra}))
"""

TAG = PRELUDE + r"""
from tagger.pipeline import TagOptions, run
export, out, history = map(Path, sys.argv[1:4])
timer = Timer()
result = run(TagOptions(export=export, output=out, history=history), timer)
timer._close()
report(steps=timer.times, rows=result.metrics.rows)
"""

REFRESH = PRELUDE + r"""
from tagger.pipeline import TagOptions
from tagger.refresh import RefreshOptions, refresh
export, out, history = map(Path, sys.argv[1:4])
timer = Timer()
refresh(RefreshOptions(TagOptions(export=export, output=out, history=history, replace=True), workbook=out), timer)
timer._close()
report(steps=timer.times)
"""

# The untimed part builds the cells tagger writes (its plan); the timed part reads the export
# with fastexcel and writes those cells with xlsxwriter's own per-cell calls.
FLOOR = PRELUDE + r"""
import tempfile, xlsxwriter, fastexcel
from tagger.pipeline import TagOptions, run
from tagger.workbook import WORKBOOK_OPTIONS
from tagger.workbook.users import plan_users
from tagger.workbook.styles import Styles
export, out, history = map(Path, sys.argv[1:4])
with tempfile.TemporaryDirectory() as tmp:
    result = run(TagOptions(export=export, output=Path(tmp) / "t.xlsx", history=Path(tmp) / "h.sqlite"))
plan = plan_users(result)
# The plan keeps its columns as arrays and codes; xlsxwriter is given Python values, listed
# before the clock starts (tagger makes them a block at a time, inside its timed write).
cells = [c.block(0, plan.rows) for c in plan.columns]
t0 = time.perf_counter()
frame = fastexcel.read_excel(str(export)).load_sheet(0).to_arrow()
read = time.perf_counter() - t0
class Fastest(xlsxwriter.worksheet.Worksheet):
    # xlsxwriter at its fastest: tagger's formulas use no post-2007 function, so the ~30
    # regular expressions that look for them per formula are skipped (tagger's old writer did this).
    def _prepare_formula(self, formula, expand_future_functions=False):
        return formula[1:] if formula.startswith("=") else formula

book = xlsxwriter.Workbook(str(out), WORKBOOK_OPTIONS)
book.use_zip64()
styles = Styles(book)
ws = book.add_worksheet("users", worksheet_class=Fastest)
columns = plan.columns
for col, c in enumerate(columns):
    ws.write_string(0, col, c.heading)
text, date = styles["text"], styles["date"]
for i in range(plan.rows):
    row = i + 1
    for col, c in enumerate(columns):
        value = cells[col][i]
        if c.kind == "formula":
            ws.write_formula(row, col, str(row + 1).join(c.template), None, "" if value is None else value)
        elif isinstance(value, str):
            if value:
                ws.write_string(row, col, value, text)
        elif isinstance(value, float) and value == value:
            ws.write_number(row, col, value, date if c.kind == "date" else None)
        elif value is not None and value == value:
            ws.write(row, col, value)
book.close()
print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "read": round(read, 2)}))
"""

PANDAS = PRELUDE + r"""
import pandas as pd
export, out = map(Path, sys.argv[1:3])
frame = pd.read_excel(export, engine="openpyxl")
frame.to_excel(out, index=False, engine="openpyxl")
report(rows=len(frame))
"""


def generator():
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "samples" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_samples"] = module
    spec.loader.exec_module(module)
    return module


def export_for(users: int, fmt: str) -> Path:
    path = DATA / f"bench_{users}_2024-07.{fmt}"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        frames = generator().simulate(users, ["2024-06", "2024-07"], seed=7)
        frame = frames["2024-07"]
        if fmt == "csv":
            generator().write_csv(frame, path)
        else:
            generator().write_xlsx(frame.drop(columns=["上次活跃时间"], errors="ignore"), path)
    return path


def measure(script: str, *args: Path) -> dict:
    """Run ``script`` in a fresh interpreter; its last line is a JSON report."""
    # Run outside the checkout: ``python -c`` puts the working folder first on sys.path, which would
    # shadow a PYTHONPATH pointing at another version of tagger (how before/after runs are compared).
    proc = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                          cwd=tempfile.gettempdir())
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--formats", nargs="+", default=["xlsx", "csv"], choices=["xlsx", "csv"])
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas + openpyxl baseline (slow)")
    parser.add_argument("--no-floor", action="store_true", help="skip the xlsxwriter floor")
    parser.add_argument("--no-refresh", action="store_true", help="skip tagger refresh")
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {_cores()} cores, Python {platform.python_version()}")
    print("| run | input | rows | total s | read s | tag s | history s | write s | peak RSS MB "
          "| peak PSS MB, with helper |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for fmt in args.formats:
        export = export_for(args.users, fmt)
        with tempfile.TemporaryDirectory() as tmp:
            out, history = Path(tmp) / "out.xlsx", Path(tmp) / "h.sqlite"
            tag = measure(TAG, export, out, history)
            _row("tagger tag", fmt, tag)
            refreshed = None
            if not args.no_refresh:
                refreshed = measure(REFRESH, export, out, history)
                _row("tagger refresh", fmt, refreshed)
            floor = pandas = None
            if fmt == "xlsx" and not args.no_floor:
                floor = measure(FLOOR, export, Path(tmp) / "floor.xlsx", history)
                print(f"| xlsxwriter floor | {fmt} | | {floor['seconds']} | {floor['read']} | | | | | |")
            if fmt == "xlsx" and not args.no_pandas:
                pandas = measure(PANDAS, export, Path(tmp) / "pandas.xlsx")
                print(f"| pandas + openpyxl | {fmt} | {pandas['rows']:,} | {pandas['seconds']} | | | | | "
                      f"{pandas['peak_rss_mb']} | {pandas['peak_pss_mb'] or ''} |")
        ratios = []
        if floor:
            ratios.append(f"tag / xlsxwriter floor = {tag['seconds'] / floor['seconds']:.2f}")
        if pandas:
            ratios.append(f"pandas / tag = {pandas['seconds'] / tag['seconds']:.1f}×")
        if refreshed:
            ratios.append(f"refresh / tag = {refreshed['seconds'] / tag['seconds']:.2f}")
        if ratios:
            print(f"\n{fmt}: " + "; ".join(ratios) + "\n")


def _row(name: str, fmt: str, r: dict) -> None:
    s = r.get("steps", {})
    rows = f"{r['rows']:,}" if "rows" in r else ""
    print(f"| {name} | {fmt} | {rows} | {r['seconds']} | {s.get('read', '')} | {s.get('tag', '')} "
          f"| {s.get('history', '')} | {s.get('write', '')} | {r['peak_rss_mb']} | {r.get('peak_pss_mb') or ''} |")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    main()
