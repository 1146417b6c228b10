"""results.json shared by chapters that run side by side: no chapter's records are lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from asn_eval.results import store as results_store
from asn_eval.results.store import ResultRecord, load_results, save_results

ROUNDS = 8


def _record(chapter: int, round_: int) -> ResultRecord:
    return ResultRecord(
        policy="training_programme",
        outcome=f"outcome_{chapter}",
        estimator="TWFE",
        estimate=float(round_),
        std_error=1.0,
        ci_low=round_ - 2.0,
        ci_high=round_ + 2.0,
        p_value=0.5,
        n_agencies=40,
        better="higher",
    )


def test_four_chapters_saving_at_once_keep_every_record(tmp_path: Path, monkeypatch):
    """Four chapters rewrite their records eight times each, at once. Reading the file is
    slowed down so that the others write while one merges: without the lock on the folder a
    chapter would write back another's older records and lose its newer ones."""
    read = results_store.load_results

    def slow_read(folder):
        records = read(folder)
        time.sleep(0.02)
        return records

    monkeypatch.setattr(results_store, "load_results", slow_read)
    start = threading.Barrier(4)

    def chapter(number: int) -> None:
        start.wait()
        for round_ in range(ROUNDS):
            save_results(tmp_path, [_record(number, round_)], number)

    threads = [threading.Thread(target=chapter, args=(n,)) for n in (1, 2, 3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    records = load_results(tmp_path)
    assert sorted((r.chapter, r.outcome, r.estimate) for r in records) == [
        (str(c), f"outcome_{c}", float(ROUNDS - 1)) for c in (1, 2, 3, 4)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv", "results.json"]
