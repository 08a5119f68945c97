"""Time and peak memory of ``tagger tag`` on generated exports.

Run on demand, never in the test suite:

    python benchmarks/bench_tag.py                 # 100k users, xlsx and csv
    python benchmarks/bench_tag.py --users 1000000 --formats xlsx

Each run happens in a fresh subprocess so its peak RSS is its own. The generated
exports are cached in ``benchmarks/.data/`` (git-ignored) because generating an
xlsx takes longer than tagging it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / ".data"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from tagger.pipeline import TagOptions, run

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

export, out, history = map(Path, sys.argv[1:4])
timer = Timer()
start = time.perf_counter()
result = run(TagOptions(export=export, output=out, history=history), timer)
timer._close()
print(json.dumps({"seconds": round(time.perf_counter() - start, 2), "steps": timer.times,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "rows": result.metrics.rows}))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--formats", nargs="+", default=["xlsx", "csv"], choices=["xlsx", "csv"])
    args = parser.parse_args()
    print(f"| input | rows | total s | read s | tag s | history s | write s | peak RSS MB |")
    print(f"|---|---|---|---|---|---|---|---|")
    for fmt in args.formats:
        export = export_for(args.users, fmt)
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run([sys.executable, "-c", CHILD, str(export), f"{tmp}/out.xlsx", f"{tmp}/h.sqlite"],
                                  capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        s = r["steps"]
        print(f"| {fmt} | {r['rows']:,} | {r['seconds']} | {s.get('read')} | {s.get('tag')} | {s.get('history')} "
              f"| {s.get('write')} | {r['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
