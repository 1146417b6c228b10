"""Data: the contract, loading and validation, pseudonymisation, synthetic data."""

from __future__ import annotations

from .synth import simulate_panel

__all__ = ["simulate_panel"]
