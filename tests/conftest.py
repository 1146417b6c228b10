"""Fixtures shared across the test folders (which mirror the package's)."""

from __future__ import annotations

import importlib.resources
import warnings

import pandas as pd
import pytest

from asn_eval.config import DEFAULT_DATA_DIR


@pytest.fixture(scope="session")
def mpdta() -> pd.DataFrame:
    """R did's ``mpdta`` (Callaway and Sant'Anna 2021: teen employment in 500 US counties,
    2003-2007), as moderndid ships it: the data of R did's published examples."""
    path = importlib.resources.files("moderndid.core.datasets") / "mpdta_long.pkl.gz"
    return pd.read_pickle(path)


@pytest.fixture(scope="session")
def kupang_dataset():
    """The committed synthetic Kupang dataset, validated and pseudonymised once per session."""
    from asn_eval.data import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset(DEFAULT_DATA_DIR)
