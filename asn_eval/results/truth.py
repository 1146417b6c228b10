"""Known truth beside the estimates, for datasets made by ``asn-eval synth``.

A synthetic dataset carries ``truth.json``: the true effect of each policy on each outcome,
by adoption cohort and years of exposure (see :mod:`asn_eval.data.synth`). This module turns
it into the estimand each headline estimator targets and lays it beside the estimate, so a
reader of a synthetic report can see whether the analysis recovers what was put in.

Estimands (what the estimate should be compared with):

* Callaway-Sant'Anna simple ATT on the agency-year panel: the average over post-adoption
  cells (cohort g, year t >= g) of the cell's true effect, each cell weighted by the number
  of agencies in cohort g (the simple aggregation of R's ``did``). truth.json averages each
  cell over employee-years; within a cell that is the employee-weighted mean, a close
  stand-in for the agency-weighted mean the panel estimates.
* Health service minutes (agency-year means of monthly medians): the mean over treated
  puskesmas-years of the year's true effect, months before the policy started counting zero.
* Dukcapil interrupted time series, level change at the start month: the true effect in the
  first year of the policy, averaged over the months it was in force and over the three
  documents weighted by their request volumes.
* Chapter 4's Callaway-Sant'Anna simple ATT within one subgroup (age band at the start of
  the window, education group, position type) on the balanced employee-year panel, each
  employee in the cohort of his or her first agency: truth.json's ``att_by_subgroup`` cells
  averaged with their employee-years as weights. In a balanced panel a cell's employee-years
  are its cohort's employees, so these are the simple aggregation's cohort-size weights.

Outcomes the generator records for some policy but not for this one are true zeros (that
policy has no path to the outcome); outcomes it never records (IKM, share within the service
standard) have no known truth and are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.estimators.did import METHOD_NAME as DID_METHOD_NAME
from asn_eval.estimators.its import METHOD_NAME as ITS_METHOD_NAME
from asn_eval.estimators.synthetic import METHOD_NAMES as SYNTHETIC_METHOD_NAMES

__all__ = [
    "TRUTH_COLUMNS",
    "load_truth",
    "true_effect",
    "truth_table",
]

TRUTH_FILE = "truth.json"
CS_ESTIMATOR = DID_METHOD_NAME
ITS_ESTIMATOR = ITS_METHOD_NAME
SDID_ESTIMATOR = SYNTHETIC_METHOD_NAMES["sdid"]
# Agency-year outcome of the impact chapter -> employee-level outcome in truth.json.
EMPLOYEE_OUTCOMES: dict[str, str] = {
    "skp_good_share": "skp_good",
    "absence_mean": "absence_days",
    "sanction_share": "sanctioned",
    "jp_mean": "jp",
}
HEALTH_OUTCOME = "health_minutes"
HEALTH_SERVICE = "rawat_jalan"
DUKCAPIL_OUTCOME = "dukcapil_days"
STANDARD_OUTCOME = "share_within_standard"
IKM_OUTCOME = "ikm"
MONTHS_PER_YEAR = 12
TRUTH_COLUMNS: tuple[str, ...] = (
    "policy",
    "outcome",
    "estimator",
    "subgroup_variable",
    "subgroup_value",
    "unit",
    "true_effect",
    "estimate",
    "ci_low",
    "ci_high",
    "covered",
    "verdict",
    "standing",
    "n_agencies",
)


def load_truth(dataset_dir: str | Path | None) -> dict | None:
    """The content of ``dataset_dir/truth.json``, or None when there is none."""
    if dataset_dir is None:
        return None
    path = Path(dataset_dir) / TRUTH_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _cohort_sizes(cohorts: pd.DataFrame | None, policy: str) -> pd.Series | None:
    if cohorts is None or policy not in cohorts:
        return None
    adopted = cohorts.loc[cohorts[policy] > 0, policy]
    return adopted.value_counts()


def _employee_effect(
    truth: Mapping, policy: str, outcome: str, cohorts: pd.DataFrame | None
) -> float | None:
    att = pd.DataFrame(truth.get("att", []))
    if att.empty or outcome not in set(att["outcome"]):
        return None  # the generator does not record this outcome: no known truth
    cells = att[(att["policy"] == policy) & (att["outcome"] == outcome)]
    if cells.empty:
        return 0.0  # recorded for other policies only: this policy has no path to it
    sizes = _cohort_sizes(cohorts, policy)
    weights = (
        cells["rows"].astype(float)
        if sizes is None
        else cells["cohort"].map(sizes).fillna(0.0).astype(float)
    )
    if weights.sum() <= 0:
        return None
    return float((weights * cells["effect"]).sum() / weights.sum())


def _subgroup_effect(
    truth: Mapping, policy: str, outcome: str, variable: str, value: str
) -> float | None:
    cells = pd.DataFrame(truth.get("att_by_subgroup", []))
    if cells.empty:
        return None  # written before subgroup truths were recorded
    cells = cells[
        (cells["policy"] == policy)
        & (cells["outcome"] == outcome)
        & (cells["subgroup_variable"] == variable)
        & (cells["subgroup_value"] == str(value))
    ]
    if cells.empty or cells["rows"].sum() <= 0:
        return None
    weights = cells["rows"].astype(float)
    return float((weights * cells["effect"]).sum() / weights.sum())


def _service_rows(truth: Mapping) -> pd.DataFrame:
    rows = pd.DataFrame(truth.get("services", []))
    if rows.empty or "months_on" not in rows:
        # Files written before months_on was recorded cannot give annual effects.
        return pd.DataFrame()
    return rows


def _all_zero(truth: Mapping, prefix: str) -> bool:
    """True when truth.json's effects starting with ``prefix`` exist and are all zero (a
    placebo: the generator then records no service rows, yet the truth is known: zero)."""
    effects = truth.get("effects", {}) or {}
    chosen = [float(v) for k, v in effects.items() if k.startswith(prefix)]
    return bool(chosen) and all(v == 0.0 for v in chosen)


def _health_effect(truth: Mapping, policy: str) -> float | None:
    rows = _service_rows(truth)
    if rows.empty or not (rows["service"] == HEALTH_SERVICE).any():
        return 0.0 if _all_zero(truth, "health.") else None
    cells = rows[(rows["service"] == HEALTH_SERVICE) & (rows["policy"] == policy)]
    if cells.empty:
        return 0.0
    # A year's mean counts the months before the start as zero effect.
    annual = cells["effect"] * cells["months_on"] / MONTHS_PER_YEAR
    return float(annual.mean())


def _dukcapil_effect(truth: Mapping, policy: str) -> float | None:
    from asn_eval.data.synth import DUKCAPIL_SERVICES as REQUESTS

    rows = _service_rows(truth)
    if rows.empty or not rows["service"].isin(REQUESTS).any():
        return 0.0 if _all_zero(truth, "dukcapil.") else None
    cells = rows[
        rows["service"].isin(REQUESTS) & (rows["policy"] == policy) & (rows["exposure"] == 0)
    ]
    if cells.empty:
        return 0.0
    weights = cells["service"].map({s: req for s, (req, _) in REQUESTS.items()})
    return float((weights * cells["effect"]).sum() / weights.sum())


def true_effect(
    truth: Mapping,
    *,
    policy: str,
    outcome: str,
    estimator: str,
    cohorts: pd.DataFrame | None = None,
    subgroup_variable: str = "",
    subgroup_value: str = "",
) -> float | None:
    """The true value of what ``estimator`` estimates for ``policy`` and ``outcome``.

    Parameters
    ----------
    truth
        Content of ``truth.json``.
    policy, outcome
        Policy key and the impact chapter's outcome key (e.g. ``skp_good_share``).
    estimator
        ``"Callaway-Sant'Anna"`` (simple ATT), ``"Interrupted time series"`` (level
        change of Dukcapil's processing days) or ``"Synthetic difference-in-differences"``
        (Dukcapil against the province's other offices: ``dukcapil_pooled``).
    cohorts
        One row per agency with its adoption year per policy (0 = never), as
        :func:`asn_eval.analysis.panels.adoption_cohorts` gives; cohorts are weighted by their
        number of agencies. Without it cells are weighted by employee-years (an approximation).
    subgroup_variable, subgroup_value
        For chapter 4's estimate within one subgroup (e.g. ``"age_band_start"``, ``"50+"``;
        ``outcome`` is then the employee-level outcome, e.g. ``skp_good``): the subgroup's
        truth from truth.json's ``att_by_subgroup``, weighted by cohort size (employees).

    Returns
    -------
    float or None
        None when truth.json holds no truth for this pair.

    Examples
    --------
    >>> truth = {"att": [
    ...     {"policy": "p", "outcome": "skp_good", "cohort": 2021, "exposure": 0,
    ...      "rows": 10, "effect": 0.1},
    ...     {"policy": "p", "outcome": "skp_good", "cohort": 2022, "exposure": 0,
    ...      "rows": 30, "effect": 0.3}]}
    >>> cohorts = pd.DataFrame({"agency_code": ["a", "b", "c"], "p": [2021, 2021, 2022]})
    >>> round(true_effect(truth, policy="p", outcome="skp_good_share",
    ...                   estimator="Callaway-Sant'Anna", cohorts=cohorts), 4)
    0.1667
    """
    if subgroup_variable:
        # Chapter 4 names its estimator "Callaway-Sant'Anna (simple ATT) by <variable>".
        if not str(estimator).startswith(CS_ESTIMATOR):
            return None
        return _subgroup_effect(truth, policy, outcome, subgroup_variable, subgroup_value)
    if estimator == CS_ESTIMATOR:
        if outcome in EMPLOYEE_OUTCOMES:
            return _employee_effect(truth, policy, EMPLOYEE_OUTCOMES[outcome], cohorts)
        if outcome == HEALTH_OUTCOME:
            return _health_effect(truth, policy)
        if outcome == IKM_OUTCOME:
            # IKM moves only through service quality; its size has no closed form, but with
            # that channel switched off the truth is zero.
            return 0.0 if _all_zero(truth, "ikm.") else None
    if estimator == SDID_ESTIMATOR:
        # Dukcapil against the province's other offices: the pooled truth of its window.
        for row in truth.get("dukcapil_pooled", ()):
            if row["policy"] == policy and row["outcome"] == outcome:
                return float(row["effect"])
        return None
    if estimator == ITS_ESTIMATOR and outcome == DUKCAPIL_OUTCOME:
        return _dukcapil_effect(truth, policy)
    if estimator == ITS_ESTIMATOR and outcome == STANDARD_OUTCOME:
        # The share within the standard follows processing times through a threshold: no
        # closed form, but zero when no Dukcapil effect was generated.
        return 0.0 if _all_zero(truth, "dukcapil.") else None
    return None


def _get(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def truth_table(
    dataset_dir: str | Path | None,
    records: Iterable[Any],
    *,
    cohorts: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """True effect beside each headline estimate of a synthetic dataset.

    Parameters
    ----------
    dataset_dir
        Folder of the dataset; its ``truth.json`` is read.
    records
        Result records (:class:`asn_eval.results.store.ResultRecord` or mappings with the
        same fields), e.g. the findings of ``results.json`` and chapter 4's subgroup
        estimates (records with ``subgroup_variable`` and ``subgroup_value``). Records whose
        estimator or outcome has no known truth are listed with a missing ``true_effect``.
    cohorts
        Adoption year of each agency per policy (see :func:`true_effect`).

    Returns
    -------
    DataFrame or None
        Columns :data:`TRUTH_COLUMNS`: ``true_effect``, the record's ``estimate``,
        ``ci_low``, ``ci_high`` (in the record's units: shares as 0-1), ``covered`` (the
        interval holds the true effect) and the record's ``verdict``. None when the dataset
        has no truth.json.

    Examples
    --------
    >>> truth_table(None, []) is None
    True
    """
    truth = load_truth(dataset_dir)
    if truth is None:
        return None
    rows = []
    for record in records:
        policy, outcome = _get(record, "policy"), _get(record, "outcome")
        estimator = _get(record, "estimator")
        variable = _get(record, "subgroup_variable") or ""
        value = _get(record, "subgroup_value") or ""
        true = true_effect(
            truth,
            policy=policy,
            outcome=outcome,
            estimator=estimator,
            cohorts=cohorts,
            subgroup_variable=variable,
            subgroup_value=value,
        )
        lo, hi = _get(record, "ci_low"), _get(record, "ci_high")
        covered = (
            bool(lo <= true <= hi)
            if true is not None
            and lo is not None
            and hi is not None
            and np.isfinite([lo, hi]).all()
            else None
        )
        rows.append(
            {
                "policy": policy,
                "outcome": outcome,
                "estimator": estimator,
                "subgroup_variable": variable,
                "subgroup_value": value,
                "unit": _get(record, "unit") or "",
                "true_effect": np.nan if true is None else true,
                "estimate": float(_get(record, "estimate")),
                "ci_low": lo,
                "ci_high": hi,
                "covered": covered,
                "verdict": _get(record, "verdict"),
                "standing": _get(record, "standing"),
                "n_agencies": _get(record, "n_agencies"),
            }
        )
    return pd.DataFrame(rows, columns=list(TRUTH_COLUMNS))
