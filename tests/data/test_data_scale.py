"""Scale: a province-sized dataset is written as Parquet in chunks with bounded memory.

Slow (about a minute): run with ``pytest -m slow tests/test_data_scale.py``.
"""

import resource
import subprocess
import sys

import pytest

from asn_eval.data import load_dataset

MAX_PEAK_GB = 3.0  # "memory kept to a few GB"


@pytest.mark.slow
def test_province_scale_parquet_in_chunks(tmp_path):
    out = tmp_path / "province"
    command = [sys.executable, "-m", "asn_eval.cli.data", "synth", "--out", str(out),
               "--employees", "120000"]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    assert peak_gb < MAX_PEAK_GB
    assert sorted(p.suffix for p in out.glob("*.parquet")) == [".parquet"] * 9
    dataset = load_dataset(out, key="scale")
    quality = dataset.quality.set_index("table")
    assert quality.loc["employees", "read"] == 120_000
    assert (quality["rejected"] == 0).all()  # no dirty rows at scale; NIPs unique
    assert dataset.tables["employees"]["employee_id"].is_unique
