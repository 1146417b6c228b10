"""Pseudonymisation: keyed hashes, the key's home, and no NIP or name in any output."""

import argparse
import hashlib
import hmac
import stat

import pandas as pd
import pytest

from asn_eval.cli.data import add_validate_arguments, run_validate
from asn_eval.config import PROJECT_ROOT
from asn_eval.data import load_dataset
from asn_eval.data.io import read_raw
from asn_eval.data.pseudonymise import get_key, key_path, pseudonymise

ROOT = PROJECT_ROOT
DEFAULT = ROOT / "data" / "kupang-synthetic"


def test_employee_id_is_truncated_hmac_sha256():
    nip = "199001012015011001"
    expected = hmac.new(b"k1", nip.encode(), hashlib.sha256).hexdigest()[:16]
    ids = pseudonymise(pd.Series([nip, nip]), b"k1")
    assert ids.tolist() == [expected, expected]
    assert pseudonymise(pd.Series([nip]), b"k2").iloc[0] != expected


def test_key_from_environment_then_from_a_private_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ASN_EVAL_KEY", "from-env")
    assert get_key() == b"from-env"
    monkeypatch.delenv("ASN_EVAL_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = key_path()
    assert path == tmp_path / "config" / "asn-eval" / "key"
    assert not path.exists()
    first = get_key()  # created on first use
    assert len(first) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert get_key() == first  # and reused
    assert ROOT not in path.parents  # never inside the repository


@pytest.fixture(scope="module")
def identifiers():
    raw = read_raw(DEFAULT / "employees.csv")
    nips = set(raw["nip"].dropna())
    names = set(raw["name"].dropna())
    # NIPs only present in other files (rows for unknown employees) count too.
    nips |= set(read_raw(DEFAULT / "performance.csv")["nip"].dropna())
    return nips, names


def test_no_nip_or_name_in_any_output(identifiers, tmp_path, monkeypatch):
    monkeypatch.setenv("ASN_EVAL_KEY", "secret-key-for-test")
    nips, names = identifiers
    out = tmp_path / "report"
    parser = add_validate_arguments(argparse.ArgumentParser())
    assert run_validate(parser.parse_args([str(DEFAULT), "--out", str(out / "validation")])) == 0
    dataset = load_dataset(DEFAULT)
    for name, frame in dataset.tables.items():  # everything a later step could write
        frame.to_csv(out / f"{name}.csv", index=False)
    dataset.rejects.to_csv(out / "rejects_again.csv", index=False)
    text = "\n".join(p.read_text() for p in out.rglob("*.csv"))
    assert len(text) > 1_000_000
    leaked_nips = [n for n in nips if n in text]
    leaked_names = [n for n in names if n in text]
    assert leaked_nips == [] and leaked_names == []
    assert "secret-key-for-test" not in text
    # the rejects still say where the problem is without showing the NIP itself
    rejects = pd.read_csv(out / "validation" / "rejects.csv")
    assert set(rejects.loc[rejects["column"] == "nip", "value"]) == {"(hidden)"}
