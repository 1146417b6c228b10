"""Time and memory of each step of the data check (``load_dataset``) on one data folder.

```
python benchmarks/check_steps.py ~/.cache/asn-eval-bench/employees-1000000-seed-2025
```

Wraps the steps of :mod:`asn_eval.data.validate` (reading a file, mapping, parsing each
column, the NIP checks, pandera, keys, references, typing, pseudonymising) and prints, per
call, its wall time and the process's resident memory before, after and at its peak
(sampled every 0.05 s in a thread), then the whole check and the writing of the cache.
Nested steps are indented under the table they belong to. Run it alone on the machine.
"""

from __future__ import annotations

import functools
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asn_eval.data.validate as validate  # noqa: E402
from asn_eval.data.cache import write_cached  # noqa: E402

GB = 2**30
STEPS = (
    "_read_table", "read_raw", "_apply_mapping", "apply_rules", "_parse_column", "_parse_nip",
    "_check_nip_storage", "_date_order", "_pandera_rejects", "_check_rows", "_check_window",
    "_check_keys", "_check_references", "_typed", "_nip_flags", "pseudonymise",
    "_rejects_frame", "_policy_gaps",
)  # fmt: skip
_process = psutil.Process()
_peak = [0]
_depth = [0]


def _sample() -> None:
    while True:
        _peak[0] = max(_peak[0], _process.memory_info().rss)
        time.sleep(0.05)


def _label(name: str, args: tuple) -> str:
    if name in ("_read_table", "_parse_column"):
        return f"{name}({args[1].name})"
    if name in ("_check_window", "_check_keys", "_check_references"):
        return f"{name}({args[0] if isinstance(args[0], str) else args[0].file})"
    return name


def _timed(name: str) -> None:
    function = getattr(validate, name)

    @functools.wraps(function)
    def timed(*args, **kwargs):
        label, start = _label(name, args), time.time()
        before = _process.memory_info().rss
        _peak[0] = before
        _depth[0] += 1
        try:
            return function(*args, **kwargs)
        finally:
            _depth[0] -= 1
            after = _process.memory_info().rss
            memory = f"rss {before / GB:.2f}->{after / GB:.2f} peak {_peak[0] / GB:.2f} GB"
            print(f"{'  ' * _depth[0]}{label}: {time.time() - start:.1f}s {memory}", flush=True)

    setattr(validate, name, timed)


def main() -> None:
    threading.Thread(target=_sample, daemon=True).start()
    for name in STEPS:
        _timed(name)
    start = time.time()
    dataset = validate.load_dataset(sys.argv[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"load_dataset total {time.time() - start:.1f}s, rss "
          f"{_process.memory_info().rss / GB:.2f} GB, maxrss {peak:.2f} GB")  # fmt: skip
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        write_cached(dataset, Path(tmp) / "cache")
        print(f"write_cached {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
