"""A fast, in-memory employee-year panel with staggered adoption and a known effect.

Used by simulation studies (coverage of Callaway-Sant'Anna, bias of two-way fixed
effects) where hundreds of replications must run in seconds; the full synthetic Kupang
dataset with all nine tables lives in :mod:`asn_eval.data.synth`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from asn_eval.config import NEVER_TREATED

# Defaults chosen so that naive TWFE is visibly biased: the effect grows with exposure
# and early cohorts gain more, the two ingredients of "forbidden comparisons"
# (Goodman-Bacon 2021; de Chaisemartin and D'Haultfoeuille 2020).
PANEL_EFFECTS: Mapping[str, float] = {
    "level": 1.0,  # effect in the adoption year (exposure 0), outcome units
    "growth": 0.5,  # added per year of exposure
    "cohort_spread": 0.5,  # earliest cohort's effect is (1 + spread) times the latest's
}


def resolve_panel_effects(effects: Mapping[str, float] | float | None) -> dict[str, float]:
    """Return the full effect parameters: defaults, all zero (``0``) or overridden keys."""
    if effects is None:
        return dict(PANEL_EFFECTS)
    if isinstance(effects, int | float):
        if effects != 0:
            raise ValueError(
                "effects must be None (defaults), 0 (no effect) or a mapping with keys "
                f"{sorted(PANEL_EFFECTS)}; got the number {effects!r}."
            )
        return {key: 0.0 for key in PANEL_EFFECTS}
    unknown = set(effects) - set(PANEL_EFFECTS)
    if unknown:
        raise ValueError(f"unknown effect keys {sorted(unknown)}; known: {sorted(PANEL_EFFECTS)}.")
    return {**PANEL_EFFECTS, **{key: float(value) for key, value in effects.items()}}


def panel_cohorts(years: Iterable[int]) -> list[int]:
    """Adoption years used by :func:`simulate_panel`: never the first two or the last year.

    Two untreated years give every cohort a pre-period; leaving the last year out keeps a
    not-yet-treated comparison for the latest cohort.
    """
    years = sorted(years)
    if len(years) < 3:
        raise ValueError(f"need at least three years for staggered adoption, got {years}.")
    cohorts = years[2:-1] if len(years) >= 4 else years[1:2]
    return list(cohorts)


def cohort_effect(
    cohort: np.ndarray, exposure: np.ndarray, *, cohorts: list[int], effects: Mapping[str, float]
) -> np.ndarray:
    """True effect for adoption year ``cohort`` after ``exposure`` years (0 before adoption)."""
    first, last = min(cohorts), max(cohorts)
    span = max(last - first, 1)
    multiplier = 1.0 + effects["cohort_spread"] * (last - cohort) / span
    tau = (effects["level"] + effects["growth"] * exposure) * multiplier
    return np.where((cohort != NEVER_TREATED) & (exposure >= 0), tau, 0.0)


def simulate_panel(
    *,
    n_employees: int = 6000,
    n_agencies: int = 40,
    years: Iterable[int] = range(2019, 2026),
    effects: Mapping[str, float] | float | None = None,
    never_share: float = 0.25,
    noise_sd: float = 1.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a balanced employee-year panel with staggered adoption across agencies.

    Each agency adopts one policy in a cohort year (or never); every employee of the
    agency is treated from that year on. The outcome is
    ``y = employee effect + agency effect + year effect + true_effect + noise``, so parallel
    trends and no anticipation hold by construction, and ``true_effect`` is the row's
    causal effect: ``(level + growth * exposure) * (1 + cohort_spread * (last - cohort) /
    (last - first))`` for treated rows, 0 otherwise.

    Parameters
    ----------
    n_employees, n_agencies
        Panel size; employees are spread uniformly over agencies.
    years
        Calendar years of the panel; adoption cohorts are ``panel_cohorts(years)``.
    effects
        ``None`` for :data:`PANEL_EFFECTS`, ``0`` for no effect anywhere, or a mapping
        overriding some of ``level``, ``growth``, ``cohort_spread``.
    never_share
        Expected share of agencies that never adopt within the window.
    noise_sd
        Standard deviation of the idiosyncratic noise.
    seed
        Seed of the random generator; the same seed gives the same panel.

    Returns
    -------
    pandas.DataFrame
        Columns ``employee_id`` (int), ``agency`` (int), ``year``, ``cohort`` (first
        treated year, 0 = never), ``treated`` (0/1), ``y``, ``true_effect``; sorted by
        employee and year.

    Examples
    --------
    >>> panel = simulate_panel(n_employees=100, n_agencies=10, seed=1)
    >>> sorted(panel.columns)[:3]
    ['agency', 'cohort', 'employee_id']
    """
    years = np.array(sorted(years), dtype=np.int64)
    cohorts = panel_cohorts(years)
    params = resolve_panel_effects(effects)
    rng = np.random.default_rng(seed)

    n_years = len(years)
    share_each = (1.0 - never_share) / len(cohorts)
    agency_cohort = rng.choice(
        np.array([NEVER_TREATED, *cohorts]),
        size=n_agencies,
        p=[never_share] + [share_each] * len(cohorts),
    )
    agency_fe = rng.normal(0.0, 0.5, n_agencies)
    employee_agency = rng.integers(0, n_agencies, n_employees)
    employee_fe = rng.normal(0.0, 1.0, n_employees)
    year_fe = 0.3 * (years - years[0]) + rng.normal(0.0, 0.2, n_years)

    employee = np.repeat(np.arange(n_employees), n_years)
    year = np.tile(years, n_employees)
    agency = employee_agency[employee]
    cohort = agency_cohort[agency]
    exposure = year - cohort
    true_effect = cohort_effect(cohort, exposure, cohorts=cohorts, effects=params)
    treated = ((cohort != NEVER_TREATED) & (exposure >= 0)).astype(np.int8)
    noise = rng.normal(0.0, noise_sd, employee.size)
    y = employee_fe[employee] + agency_fe[agency] + np.tile(year_fe, n_employees)
    y = y + true_effect + noise
    return pd.DataFrame(
        {
            "employee_id": employee,
            "agency": agency,
            "year": year,
            "cohort": cohort,
            "treated": treated,
            "y": y,
            "true_effect": true_effect,
        }
    )


def true_att(panel: pd.DataFrame, *, by: str | list[str] | None = None) -> pd.Series | float:
    """Average ``true_effect`` over treated rows, overall or by ``cohort``/``exposure``.

    ``by="exposure"`` gives the event-study truth (years since adoption); ``by="cohort"`` the
    group truth; ``by=["cohort", "year"]`` the group-time ATT(g, t) of Callaway and Sant'Anna.
    """
    treated = panel.loc[panel["treated"] == 1].copy()
    treated["exposure"] = treated["year"] - treated["cohort"]
    if by is None:
        return float(treated["true_effect"].mean())
    return treated.groupby(by)["true_effect"].mean()
