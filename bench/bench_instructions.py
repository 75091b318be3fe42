"""Instructions the app executes per request of each page of the load mix (valgrind callgrind).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rtu_load \
        .venv/bin/python bench/bench_instructions.py [--pages list,detail,form,save] [-n 20]

Wall-clock and CPU times move with the neighbours on a shared machine (±10 % between two runs
of `bench_pages.py` here), so a change worth 3 % cannot be read from them. Callgrind counts the
instructions of the Python process instead, which do not depend on what else runs: for each
page, `bench_pages.py` runs under callgrind twice, with 5 and with 5 + N timed requests, and the
difference divided by N is one request's count (start-up, set-up and warm-up cancel out).
PostgreSQL's own work is not counted (another process); `bench_pages.py` gives its CPU.

Needs valgrind (Debian's package). About 45 s per run, two runs at a time.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = 5


def instructions(page: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/out",
                sys.executable,
                str(ROOT / "bench" / "bench_pages.py"),
                "-n",
                str(n),
                "--warmup",
                "3",
                "--pages",
                page,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"{page}, n={n}: valgrind failed\n{run.stdout}\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", default="list,detail,form,save")
    parser.add_argument("-n", type=int, default=20, help="extra requests of the second run")
    args = parser.parse_args()
    pages = args.pages.split(",")
    runs = [(page, count) for page in pages for count in (BASE, BASE + args.n)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(runs, pool.map(lambda run: instructions(*run), runs), strict=True))
    total = 0.0
    for page in pages:
        per_request = (counts[page, BASE + args.n] - counts[page, BASE]) / args.n
        total += per_request
        print(f"{page:8s} {per_request / 1e6:7.2f} M instructions per request")
    print(f"{'sum':8s} {total / 1e6:7.2f} M")


if __name__ == "__main__":
    main()
