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


# --- designs researchers bring, drawn from a simulated panel (issue 22) --------------------
def cross_sections(panel: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Repeated cross-sections from a panel: each employee answers in one random year.

    A respondent survey with new respondents every period (the IKM survey's design): rows
    keep their ``true_effect``, so the group-time ATT of the population is known, but no
    one is seen twice and the employee effect no longer differences out.

    Examples
    --------
    >>> rows = cross_sections(simulate_panel(n_employees=100, n_agencies=10, seed=1))
    >>> int(rows["employee_id"].duplicated().sum())
    0
    """
    rng = np.random.default_rng(seed)
    years = np.sort(panel["year"].unique())
    ids = panel["employee_id"].unique()
    year = dict(zip(ids, rng.choice(years, ids.size), strict=True))
    return panel[panel["year"] == panel["employee_id"].map(year)].reset_index(drop=True)


def with_attrition(panel: pd.DataFrame, *, rate: float, seed: int = 0) -> pd.DataFrame:
    """An unbalanced panel: each employee-year row is lost with probability ``rate``.

    The loss is unrelated to outcomes and treatment (missing completely at random), the
    case in which an unbalanced panel's rows still identify ATT(g, t).

    Examples
    --------
    >>> panel = simulate_panel(n_employees=100, n_agencies=10, seed=1)
    >>> len(with_attrition(panel, rate=0.2)) < len(panel)
    True
    """
    keep = np.random.default_rng(seed).random(len(panel)) >= rate
    return panel[keep].reset_index(drop=True)


def stratified_sample(
    panel: pd.DataFrame,
    *,
    stratum_share: float = 0.2,
    stratum_gain: float = 3.0,
    keep_rest: float = 0.25,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A population with a high-effect stratum and a sample that over-represents it.

    Employees fall in stratum 1 with probability ``stratum_share`` (independently of their
    agency, so of their cohort); there the effect is ``stratum_gain`` times the panel's. The
    sample keeps every stratum-1 employee and a share ``keep_rest`` of the others, with the
    sampling weight ``weight`` = 1 / inclusion probability. Unweighted estimates on the sample
    are pulled towards stratum 1; weighted ones target the population.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(population, sample)``: the panel with columns ``stratum`` and the rescaled ``y``
        and ``true_effect``, and the sampled employees' rows with ``weight``.

    Examples
    --------
    >>> pop, sample = stratified_sample(simulate_panel(n_employees=200, n_agencies=10))
    >>> sorted(sample["weight"].unique().tolist())
    [1.0, 4.0]
    """
    rng = np.random.default_rng(seed)
    ids = panel["employee_id"].to_numpy()
    n = int(ids.max()) + 1
    stratum = (rng.random(n) < stratum_share).astype(np.int8)
    inclusion = np.where(stratum == 1, 1.0, keep_rest)
    sampled = rng.random(n) < inclusion
    gain = np.where(stratum[ids] == 1, stratum_gain - 1.0, 0.0) * panel["true_effect"]
    population = panel.assign(
        stratum=stratum[ids], y=panel["y"] + gain, true_effect=panel["true_effect"] + gain
    )
    sample = population[sampled[ids]].assign(weight=1.0 / inclusion[ids[sampled[ids]]])
    return population, sample.reset_index(drop=True)
