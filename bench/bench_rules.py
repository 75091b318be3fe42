"""Replay the protocol compliance of a synthetic cohort (the patient page does it per patient).

    python bench/bench_rules.py [--patients 300000] [--seed 2014] [--workers 2]

Generates a deterministic cohort in memory (start dates 2014-2024, about 10 steps each, a
mixture of protocol-abiding titrations and deviating schedules), then replays check_schedule
over every patient: first in a plain loop, then with a pool of worker processes (forked, so
they share the cohort). Prints time, time per check, checks per second and findings per code.
Target (issue 4): 3 million checks in under 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prescriptions.rules import FINDING_CODES, check_schedule  # noqa: E402

Patient = tuple[int, bool, bool, bool, list[tuple[date, int]]]  # age, 3 opinions, steps

FIRST_DAY = date(2014, 1, 1)  # a few patients start before the RTU: BEFORE_PROTOCOL
LAST_DAY = date(2024, 12, 31)


def make_cohort(patients: int, seed: int) -> list[Patient]:
    rng = random.Random(seed)
    span = (LAST_DAY - FIRST_DAY).days
    # Share date objects: ~4,000 distinct days instead of 3 million objects.
    days = [FIRST_DAY + timedelta(days=n) for n in range(span + 200)]
    cohort: list[Patient] = []
    for _ in range(patients):
        age = rng.randint(18, 90)
        second = rng.random() < 0.3
        collegial = rng.random() < 0.15
        multidisciplinary = rng.random() < 0.3
        day = rng.randrange(span)
        count = rng.randint(8, 12)
        steps: list[tuple[date, int]] = []
        if rng.random() < 0.6:
            # Abiding titration: 15 mg, +5 below 30 then +10, every 2 to 4 days.
            dose = 15
            for _ in range(count):
                steps.append((days[day], dose))
                dose += 5 if dose < 30 else 10
                day += rng.randint(2, 4)
        else:
            # Deviating: a random walk, some big or early steps, an occasional typo.
            dose = rng.choice((10, 15, 20, 30, 40, 60, 90))
            for _ in range(count):
                if rng.random() < 0.02:
                    steps.append((days[day], dose + rng.choice((-3, 2, 7))))
                else:
                    steps.append((days[day], dose))
                dose = max(5, dose + rng.choice((-20, -15, -10, -5, 0, 5, 10, 10, 15, 20)))
                day += rng.randint(0, 5)
        cohort.append((age, second, collegial, multidisciplinary, steps))
    return cohort


COHORT: list[Patient] = []


def replay(start: int, stop: int) -> tuple[int, int, Counter[str]]:
    """Check patients [start, stop): (checks, refused checks, findings per code)."""
    checks = refused = 0
    codes: Counter[str] = Counter()
    for age, second, collegial, multidisciplinary, steps in COHORT[start:stop]:
        results = check_schedule(
            steps,
            age=age,
            second_opinion=second,
            collegial_opinion=collegial,
            multidisciplinary_care=multidisciplinary,
        )
        checks += len(results)
        for result in results:
            if result.findings:
                if not result.allowed:
                    refused += 1
                for finding in result.findings:
                    codes[finding.code] += 1
    return checks, refused, codes


def _replay_chunk(bounds: tuple[int, int]) -> tuple[int, int, Counter[str]]:
    return replay(*bounds)


def report(label: str, seconds: float, checks: int, refused: int, codes: Counter[str]) -> None:
    print(f"\n== {label}")
    print(f"total time      {seconds:8.2f} s")
    print(f"per check       {seconds / checks * 1e6:8.2f} µs")
    print(f"checks/s        {checks / seconds:12,.0f}")
    print(f"checks          {checks:12,}  refused {refused:,} ({refused / checks:.1%})")
    for code in FINDING_CODES:
        print(f"  {code:<32} {codes[code]:>10,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--workers", type=int, default=2, help="0: skip the pool run")
    args = parser.parse_args()

    global COHORT
    started = time.perf_counter()
    COHORT = make_cohort(args.patients, args.seed)
    steps = sum(len(patient[4]) for patient in COHORT)
    print(
        f"cohort: {args.patients:,} patients, {steps:,} steps, seed {args.seed} "
        f"(generated in {time.perf_counter() - started:.1f} s)"
    )

    started = time.perf_counter()
    checks, refused, codes = replay(0, len(COHORT))
    report("pure-Python loop", time.perf_counter() - started, checks, refused, codes)

    if args.workers > 0 and "fork" in multiprocessing.get_all_start_methods():
        size = max(1, len(COHORT) // (args.workers * 8))
        chunks = [(n, min(n + size, len(COHORT))) for n in range(0, len(COHORT), size)]
        context = multiprocessing.get_context("fork")  # workers inherit COHORT
        with context.Pool(args.workers) as pool:
            started = time.perf_counter()
            parts = pool.map(_replay_chunk, chunks)
            seconds = time.perf_counter() - started
        total: Counter[str] = Counter()
        for _, _, part in parts:
            total.update(part)
        pool_checks = sum(part[0] for part in parts)
        pool_refused = sum(part[1] for part in parts)
        assert (pool_checks, pool_refused, total) == (checks, refused, codes)
        report(f"pool of {args.workers} workers", seconds, pool_checks, pool_refused, total)


if __name__ == "__main__":
    main()
