"""Data: the contract, loading and validation, pseudonymisation, synthetic data.

Public entry points: :func:`load_dataset` (validated, pseudonymised tables),
:func:`simulate_panel` (a fast panel for simulation studies), :func:`generate_city` and
:func:`write_dataset` (the synthetic Kupang dataset); the commands that call them are
in :mod:`asn_eval.cli.data`.
"""

from __future__ import annotations

from .contract import CONTRACT, POLICIES, TABLES
from .errors import DataError
from .export import SYNTHETIC_NOTICE, write_dataset
from .synth import DEFAULT_EFFECTS, generate_city, simulate_panel, true_att
from .validate import Dataset, load_dataset

__all__ = [
    "CONTRACT",
    "DEFAULT_EFFECTS",
    "POLICIES",
    "SYNTHETIC_NOTICE",
    "TABLES",
    "DataError",
    "Dataset",
    "generate_city",
    "load_dataset",
    "simulate_panel",
    "true_att",
    "write_dataset",
]
