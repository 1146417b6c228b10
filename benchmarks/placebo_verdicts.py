"""How often the report names an effect, and recommends acting on one, when there is none.

For each seed, a synthetic city with every true effect set to zero is written by the same
code as ``asn-eval synth --no-effects``, loaded through the data contract, and analysed by
chapter 3's :func:`asn_eval.analysis.impact` with the report's default options. Each headline
estimate (the findings of chapter 5: Callaway-Sant'Anna and the Dukcapil interrupted time
series) gets its one decision (:func:`asn_eval.domain.decision.decide`); the script counts the
estimates named as effects (any standing), those confirmed, per estimator family, and the
reports whose one decision per policy (:mod:`asn_eval.domain.policy_decision`) asks for action
(keep and extend, keep, stop or review) on a placebo.

Usage::

    .venv/bin/python benchmarks/placebo_verdicts.py --seeds 8
    .venv/bin/python benchmarks/placebo_verdicts.py --seeds 8 --out benchmarks/results/placebo.json

Prints a table and, with ``--out``, writes the figures as JSON. About a minute per seed on
two cores.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from asn_eval.analysis import AnalysisSpec
from asn_eval.analysis.impact import impact
from asn_eval.data import load_dataset, write_dataset
from asn_eval.domain.policy_decision import decide_policies
from asn_eval.report.chapters.conclusion import findings

# Decisions that ask an office to act on an effect (keep and extend, keep, stop, review).
ACTING = ("extend", "keep", "stop", "review")


def family(record) -> str:
    """Estimator family of a headline estimate, by its number of units."""
    if record.estimator != "Callaway-Sant'Anna":
        return "ITS (one office)"
    n = int(record.n_agencies or 0)
    return "CS, 43 agencies" if n >= 30 else f"CS, {n} units"


def run(seeds: list[int], *, employees: int) -> dict:
    rows = []
    reports_acting = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="asn-eval-placebo-") as tmp:
        for seed in seeds:
            folder = Path(tmp) / f"city-{seed}"
            write_dataset(folder, n_employees=employees, effects=0, seed=seed, fmt="csv")
            dataset = load_dataset(folder)
            results = impact(dataset, AnalysisSpec(year=max(dataset.years), seed=seed))
            records = [r for r in results.records() if r.outcome != "jp_mean"]
            headline = findings([replace(r, chapter="3") for r in records])
            policies = list(dict.fromkeys(r.policy for r in headline))
            decided = decide_policies(headline, policies, year=max(dataset.years))
            acting = [d for d in decided if d.decision in ACTING]
            reports_acting += bool(acting)
            for r in headline:
                rows.append(
                    {
                        "seed": seed,
                        "family": family(r),
                        "named": r.verdict != "no_detectable_effect",
                        "confirmed": r.standing == "confirmed",
                    }
                )
            print(
                f"seed {seed}: {sum(x['named'] for x in rows if x['seed'] == seed)} named, "
                f"{sum(x['confirmed'] for x in rows if x['seed'] == seed)} confirmed, "
                f"acting on {len(acting)} policies ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    total = Counter()
    by_family: dict[str, Counter] = {}
    for row in rows:
        for counter in (total, by_family.setdefault(row["family"], Counter())):
            counter["estimates"] += 1
            counter["named"] += row["named"]
            counter["confirmed"] += row["confirmed"]
    return {
        "seeds": seeds,
        "employees": employees,
        "overall": dict(total),
        "by_family": {k: dict(v) for k, v in sorted(by_family.items())},
        "reports": len(seeds),
        "reports_recommending_action": reports_acting,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8, help="number of placebo cities")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--employees", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    figures = run(seeds, employees=args.employees)
    print(f"\n{'family':<22}{'estimates':>10}{'named':>8}{'share':>8}{'confirmed':>11}{'share':>8}")
    for name, c in [*figures["by_family"].items(), ("all", figures["overall"])]:
        n = c["estimates"]
        print(
            f"{name:<22}{n:>10}{c['named']:>8}{c['named'] / n:>8.1%}"
            f"{c['confirmed']:>11}{c['confirmed'] / n:>8.1%}"
        )
    print(
        f"reports recommending action on a placebo: {figures['reports_recommending_action']} "
        f"of {figures['reports']}"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
