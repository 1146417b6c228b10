"""Synthetic data with known true effects."""

from __future__ import annotations

from .panel import PANEL_EFFECTS, simulate_panel, true_att

__all__ = ["PANEL_EFFECTS", "simulate_panel", "true_att"]
