"""Power and minimum detectable effects (MDE) for next year's evaluation of a staggered roll-out.

Why one module of ~1,200 lines: the variance model, its estimation, the exact variance
of the estimator's linear form, the analytic MDE and the simulation that checks it are
one calculation; the simulation reuses the design's covariance directly.

A design is the agencies (the clusters), their adoption years (cohorts; 0 = never), the
years observed, and a variance model of the agency-year outcome ``Y_it``::

    Y_it = a_i + lambda_t + v_it + e_it + effect * D_it

with ``a_i`` the agency's level (between-agency variance ``between_var``), ``v_it`` a
yearly agency shock (variance ``shock_var``) that is AR(1) over years with correlation
``rho`` (``serial="ar1"``) or independent (``serial="exchangeable"``: with the agency level,
every pair of years is equally correlated), and, when ``Y_it`` is the mean of ``m_i``
employees, the sampling noise ``e_it`` of variance ``employee_var / m_i``. The
intra-agency correlation of the employee outcome is then
``(between_var + shock_var) / (between_var + shock_var + employee_var)``.

Given the cohorts, the Callaway-Sant'Anna overall ATT (simple aggregation, as
:func:`~asn_eval.estimators.did.att_gt` and ``.aggregate("simple")`` compute it without
covariates) is a fixed linear combination ``sum_it c_it Y_it`` of the agency-year outcomes,
so its variance is the exact quadratic form ``sum_i c_i' Sigma_i c_i`` over the independent
agencies: no regression and no asymptotics. Agency levels and year effects cancel in every
comparison. The MDE at power ``1 - beta`` and two-sided size ``alpha`` is Bloom's (1995)
``(t_{1-alpha/2, df} + t_{1-beta, df}) * SE`` with ``df = G - 1`` for ``G`` agencies (the
t reference att_gt uses when clustered by agency); the exact MDE from the noncentral t is
reported beside it. The variance components are estimated by restricted maximum likelihood
(Patterson and Thompson 1971) from agency-years not yet treated, net of agency and year
fixed effects.

References
----------
Bloom, H. S. (1995). Minimum detectable effects: a simple way to report the statistical
power of experimental designs. Evaluation Review 19(5), 547-556.
Duflo, E., Glennerster, R. and Kremer, M. (2007). Using randomization in development
economics research: a toolkit. Handbook of Development Economics 4, 3895-3962 (section 4).
Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Patterson, H. D. and Thompson, R. (1971). Recovery of inter-block information when block
sizes are unequal. Biometrika 58(3), 545-554.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from asn_eval.config import NEVER_TREATED

from .results import Summary, plotting_backend

SERIAL = ("ar1", "exchangeable")
FITS = ("cohort_year", "not_yet_treated")
ESTIMATORS = ("cs", "twfe")
CONTROL_GROUPS = ("never", "notyet")
# Serial correlation is kept inside (-RHO_BOUND, RHO_BOUND): at +-1 the AR(1) covariance is
# singular and the likelihood flat.
RHO_BOUND = 0.99
DEFAULT_N_SIM = 1000
ESTIMATOR_NAMES = {
    "cs": "Callaway-Sant'Anna overall ATT (simple aggregation)",
    "twfe": "two-way fixed effects coefficient",
}
CONTROL_NAMES = {"never": "never treated", "notyet": "not yet treated"}


# --------------------------------------------------------------------------------------
# Design
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Design:
    """Agencies, adoption cohorts, years and the variance model of an agency-year outcome.

    Parameters
    ----------
    units
        Agency labels (one per agency; each agency is a cluster).
    cohorts
        Adoption year per agency; 0 = never. A year after the last one observed means not
        yet adopted (never treated within the window).
    years
        Consecutive calendar years observed.
    between_var
        Variance of the agency levels ``a_i`` (within cohort); cancels in every DiD
        comparison but sets the intra-agency correlation.
    shock_var
        Variance of the yearly agency shocks ``v_it``.
    rho
        AR(1) correlation of the shocks from one year to the next (0 with
        ``serial="exchangeable"``).
    employee_var
        Variance of the employee outcome within agency and year (0 when the outcome is not a
        mean of employees); its mean over ``employees[i]`` staff adds
        ``employee_var / employees[i]`` to each agency-year.
    employees
        Employees per agency (per year), needed when ``employee_var > 0``.
    serial
        ``"ar1"`` or ``"exchangeable"``.
    outcome, unit
        Names used in statements.
    info
        Facts about how the design was obtained (shown in the summary).
    """

    units: tuple
    cohorts: tuple
    years: tuple
    between_var: float
    shock_var: float
    rho: float = 0.0
    employee_var: float = 0.0
    employees: tuple | None = None
    serial: str = "ar1"
    outcome: str = "outcome"
    unit: str = "agency"
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", tuple(self.units))
        object.__setattr__(self, "cohorts", tuple(int(g) for g in self.cohorts))
        object.__setattr__(self, "years", tuple(int(t) for t in self.years))
        if self.employees is not None:
            object.__setattr__(self, "employees", tuple(float(m) for m in self.employees))
        if len(self.units) != len(self.cohorts):
            raise ValueError(
                f"Design: {len(self.units)} units but {len(self.cohorts)} cohorts; give one "
                "adoption year per unit."
            )
        if len(set(self.units)) != len(self.units):
            raise ValueError("Design: unit labels must be unique.")
        years = np.array(self.years)
        if years.size < 2 or np.any(np.diff(years) != 1):
            raise ValueError(
                f"Design: years must be at least two consecutive years; got {list(self.years)}."
            )
        if self.serial not in SERIAL:
            raise ValueError(
                f"Design: serial must be 'ar1' or 'exchangeable'; got {self.serial!r}."
            )
        for name in ("between_var", "shock_var", "employee_var"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"Design: {name} must be a finite variance >= 0; got {value!r}.")
        if not -1 < self.rho < 1:
            raise ValueError(f"Design: rho must lie strictly between -1 and 1; got {self.rho!r}.")
        if self.serial == "exchangeable" and self.rho != 0:
            raise ValueError("Design: serial='exchangeable' has rho = 0 (equal correlation).")
        if self.employee_var > 0:
            if self.employees is None:
                raise ValueError("Design: employee_var > 0 needs employees per agency.")
            if len(self.employees) != len(self.units) or min(self.employees) <= 0:
                raise ValueError("Design: employees must be one positive number per unit.")
        if self.shock_var + self.employee_var <= 0:
            raise ValueError("Design: shock_var and employee_var cannot both be 0.")

    @classmethod
    def from_counts(
        cls,
        cohort_sizes: Mapping[int, int],
        *,
        years: Sequence[int],
        between_var: float,
        shock_var: float,
        rho: float = 0.0,
        employee_var: float = 0.0,
        employees: float | Sequence[float] | None = None,
        serial: str = "ar1",
        outcome: str = "outcome",
    ) -> Design:
        """A design from the number of agencies per adoption year (key 0 = never adopting).

        Examples
        --------
        >>> d = Design.from_counts({2021: 10, 2023: 10, 0: 5}, years=range(2019, 2026),
        ...                        between_var=1.0, shock_var=0.5, rho=0.3)
        >>> d.n_units, d.cohort_sizes[0]
        (25, 5)
        """
        cohorts = [int(g) for g, k in sorted(cohort_sizes.items()) for _ in range(int(k))]
        units = tuple(f"agency {i + 1}" for i in range(len(cohorts)))
        if employees is not None and np.ndim(employees) == 0:
            employees = [float(employees)] * len(cohorts)
        return cls(
            units=units,
            cohorts=tuple(cohorts),
            years=tuple(years),
            between_var=between_var,
            shock_var=shock_var,
            rho=rho,
            employee_var=employee_var,
            employees=None if employees is None else tuple(employees),
            serial=serial,
            outcome=outcome,
        )

    # --- facts ---------------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def n_years(self) -> int:
        return len(self.years)

    @property
    def cohort_array(self) -> np.ndarray:
        """Adoption year per agency with adoptions after the last year recoded to 0."""
        g = np.array(self.cohorts, dtype=np.int64)
        return np.where(g > self.years[-1], NEVER_TREATED, g)

    @property
    def cohort_sizes(self) -> dict[int, int]:
        """Agencies per adoption year within the window (0 = never adopting by the last year)."""
        values, counts = np.unique(self.cohort_array, return_counts=True)
        return {int(v): int(k) for v, k in zip(values, counts, strict=True)}

    @property
    def n_never(self) -> int:
        return self.cohort_sizes.get(NEVER_TREATED, 0)

    @property
    def n_clusters(self) -> int:
        """Agencies that enter the estimator (those adopting in the first year have no base)."""
        g = self.cohort_array
        return int(np.sum((g == NEVER_TREATED) | (g > self.years[0])))

    @property
    def df(self) -> int:
        """Degrees of freedom ``G - 1`` of the t reference (G = agencies, the clusters)."""
        return self.n_clusters - 1

    @property
    def icc(self) -> float:
        """Intra-agency correlation of the employee outcome in a year (nan without employees)."""
        if self.employee_var <= 0:
            return np.nan
        agency = self.between_var + self.shock_var
        return agency / (agency + self.employee_var)

    @property
    def method(self) -> str:
        return "Design of a staggered roll-out (variance components)"

    def covariance(self) -> np.ndarray:
        """Covariance ``Sigma_i`` of each agency's outcomes over the years, shape (N, T, T)."""
        lag = np.abs(np.subtract.outer(np.arange(self.n_years), np.arange(self.n_years)))
        serial = self.shock_var * self.rho**lag if self.rho != 0 else self.shock_var * (lag == 0)
        sigma = np.broadcast_to(self.between_var + serial, (self.n_units, *lag.shape)).copy()
        if self.employee_var > 0:
            noise = self.employee_var / np.asarray(self.employees)
            idx = np.arange(self.n_years)
            sigma[:, idx, idx] += noise[:, None]
        return sigma

    # --- changes -------------------------------------------------------------------------
    def extend(self, years: int = 1, *, planned: Mapping[Any, int] | None = None) -> Design:
        """The same agencies and variance model observed for ``years`` more years.

        ``planned`` maps agencies (labels in ``units``) not yet adopting by the current last
        year to a planned adoption year; other cohorts stay as known.
        """
        if years < 0:
            raise ValueError(f"extend: years must be >= 0; got {years}.")
        new_years = tuple(range(self.years[0], self.years[-1] + int(years) + 1))
        cohorts = list(self.cohorts)
        position = {u: i for i, u in enumerate(self.units)}
        for label, year in (planned or {}).items():
            if label not in position:
                raise ValueError(f"extend: planned agency {label!r} is not in the design.")
            i = position[label]
            current = cohorts[i]
            if current != NEVER_TREATED and current <= self.years[-1]:
                raise ValueError(
                    f"extend: agency {label!r} already adopted in {current}; only agencies "
                    "not yet adopting can have a planned adoption."
                )
            if int(year) <= self.years[-1]:
                raise ValueError(
                    f"extend: planned adoption of {label!r} in {year} is not after the last "
                    f"observed year {self.years[-1]}."
                )
            cohorts[i] = int(year)
        info = dict(self.info)
        if years:
            info["extended"] = f"{int(years)} more year(s) to {new_years[-1]}"
        if planned:
            info["planned adoptions"] = ", ".join(f"{u}: {y}" for u, y in planned.items())
        return replace(self, cohorts=tuple(cohorts), years=new_years, info=info)

    # --- simulation ----------------------------------------------------------------------
    def draw(self, n_sim: int, *, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """``n_sim`` draws of the agency-year outcomes without effect, shape (n_sim, N, T).

        Gaussian with covariance :meth:`covariance`; year effects are zero (they cancel).
        """
        rng = np.random.default_rng(seed)
        chol = np.linalg.cholesky(self.covariance())
        z = rng.standard_normal((int(n_sim), self.n_units, self.n_years))
        return np.einsum("nts,kns->knt", chol, z)

    def treatment(self) -> np.ndarray:
        """Treatment indicator ``D_it`` (adopted by year t), shape (N, T)."""
        g = self.cohort_array[:, None]
        return ((g != NEVER_TREATED) & (np.array(self.years)[None, :] >= g)).astype(float)

    def simulate(
        self, *, effect: float = 0.0, seed: int | np.random.Generator | None = None
    ) -> pd.DataFrame:
        """One long agency-year panel from the design with a constant ``effect``.

        Columns ``unit``, ``year``, ``cohort`` (0 = never), ``treated``, ``y`` and, with
        employees, ``employees``.
        """
        y = self.draw(1, seed=seed)[0] + effect * self.treatment()
        frame = _long_frame(self)
        frame["y"] = y.ravel()
        return frame

    # --- presentation --------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The variance components, one row each, with what they mean."""
        rows = [
            ("between_var", self.between_var, "variance of agency levels (cancels in DiD)"),
            ("shock_var", self.shock_var, "variance of yearly agency shocks"),
            ("rho", self.rho, f"serial correlation of shocks ({self.serial})"),
            ("employee_var", self.employee_var, "variance of employees within agency-year"),
            ("icc", self.icc, "intra-agency correlation of the employee outcome"),
        ]
        if self.employees is not None:
            rows.append(("employees", float(np.mean(self.employees)), "mean employees per agency"))
        return pd.DataFrame(rows, columns=["component", "value", "meaning"])

    def _design_words(self) -> str:
        sizes = self.cohort_sizes
        adopting = sum(k for g, k in sizes.items() if g != NEVER_TREATED and g > self.years[0])
        n_cohorts = sum(1 for g in sizes if g != NEVER_TREATED and g > self.years[0])
        return (
            f"{self.n_units} agencies ({adopting} adopting in {n_cohorts} cohorts, "
            f"{self.n_never} never adopting) observed over {self.years[0]}-{self.years[-1]}"
        )

    def statement(self) -> str:
        text = (
            f"{self._design_words()}; {self.outcome} varies between agencies with variance "
            f"{self.between_var:.3g} and from year to year within an agency with variance "
            f"{self.shock_var:.3g} (serial correlation {self.rho:.2f})"
        )
        if self.employee_var > 0:
            text += (
                f", plus the sampling noise of about {np.mean(self.employees):.0f} employees "
                f"per agency (employee variance {self.employee_var:.3g}, intra-agency "
                f"correlation {self.icc:.2f})"
            )
        return text + "."

    def summary(self) -> Summary:
        return Summary(self)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __str__(self) -> str:
        return str(self.summary())


def _long_frame(design: Design) -> pd.DataFrame:
    """The design's unit-year skeleton (sorted by unit and year), without an outcome."""
    n, t = design.n_units, design.n_years
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), t),
            "year": np.tile(np.array(design.years), n),
            "cohort": np.repeat(design.cohort_array, t),
            "treated": design.treatment().ravel().astype(int),
        }
    )
    if design.employees is not None:
        frame["employees"] = np.repeat(np.asarray(design.employees), t)
    return frame


# --------------------------------------------------------------------------------------
# Estimating the variance components
# --------------------------------------------------------------------------------------
def estimate_design(
    panel: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    weights: str | None = None,
    employee_var: float | None = None,
    serial: str = "ar1",
    fit: str = "not_yet_treated",
) -> Design:
    """Estimate a :class:`Design` (cohorts and variance components) from an agency-year panel.

    The variance model describes the outcome without the policy, so by default
    (``fit="not_yet_treated"``) the agency-years not yet treated are regressed on agency and
    year fixed effects, as in the imputation approach; ``fit="cohort_year"`` uses every
    agency-year with agency and cohort-by-year fixed effects instead, which absorb effects that
    vary by cohort and year but not effects that differ between agencies of a cohort (those
    would count as noise). The residual covariance ``shock_var * rho**|s - t| +
    employee_var / m_it`` is estimated by restricted maximum likelihood (REML; the agency
    effects are profiled out exactly), and the between-agency variance by the method of
    moments from agency means within cohorts, net of the residual noise. Only the total
    residual covariance matters for the MDE; its split between agency shocks and employee
    noise is weakly identified when agencies are few or alike in size.

    Parameters
    ----------
    panel
        One row per agency and year.
    outcome, unit, time, cohort
        Column names; ``cohort`` is the adoption year (0 or missing = never).
    weights
        Column with the employees behind each agency-year mean (e.g. ``n_employees``): the
        outcome is then modelled with sampling noise ``employee_var / weights``.
    employee_var
        Known variance of the employee outcome within agency-year (e.g. ``p * (1 - p)`` for a
        share); estimated from how the residual variance falls with ``weights`` when None.
    serial
        ``"ar1"`` (estimate ``rho``) or ``"exchangeable"`` (``rho = 0``).
    fit
        ``"not_yet_treated"`` or ``"cohort_year"`` (see above).

    Returns
    -------
    Design
        Agencies observed in every year with their cohorts and the estimated components;
        ``info`` records the fit.

    Examples
    --------
    >>> truth = Design.from_counts({2021: 15, 2023: 15, 0: 10}, years=range(2019, 2026),
    ...                            between_var=1.0, shock_var=0.5, rho=0.4)
    >>> panel = truth.simulate(seed=1)
    >>> est = estimate_design(panel, outcome="y", unit="unit", time="year", cohort="cohort")
    >>> est.n_units
    40
    """
    if serial not in SERIAL:
        raise ValueError(
            f"estimate_design: serial must be 'ar1' or 'exchangeable'; got {serial!r}."
        )
    if fit not in FITS:
        raise ValueError(
            f"estimate_design: fit must be 'cohort_year' or 'not_yet_treated'; got {fit!r}."
        )
    columns = {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort}
    if weights is not None:
        columns["weights"] = weights
    for role, name in columns.items():
        if name not in panel.columns:
            raise ValueError(f"estimate_design: column {name!r} ({role}) is not in the data.")
    if employee_var is not None and weights is None:
        raise ValueError("estimate_design: employee_var needs weights (employees per agency-year).")

    frame = panel[list(columns.values())].copy()
    if frame.duplicated([unit, time]).any():
        raise ValueError(f"estimate_design: each ({unit}, {time}) pair must appear once.")
    frame[cohort] = pd.to_numeric(frame[cohort]).fillna(NEVER_TREATED).astype(np.int64)
    if (frame.groupby(unit)[cohort].nunique() > 1).any():
        raise ValueError(f"estimate_design: {cohort!r} must be constant within each {unit!r}.")
    years = np.sort(frame[time].unique()).astype(np.int64)
    if years.size < 3 or np.any(np.diff(years) != 1):
        raise ValueError(
            f"estimate_design: need at least three consecutive years; got {years.tolist()}."
        )
    wide = frame.pivot(index=unit, columns=time, values=outcome).reindex(columns=years)
    complete = wide.notna().all(axis=1)
    if weights is not None:
        m_wide = frame.pivot(index=unit, columns=time, values=weights).reindex(columns=years)
        complete &= (m_wide > 0).all(axis=1)
    n_dropped = int((~complete).sum())
    wide = wide[complete]
    if len(wide) < 3:
        raise ValueError("estimate_design: fewer than three agencies observed in every year.")
    y = wide.to_numpy(dtype=float)
    units = tuple(wide.index)
    cohorts = frame.groupby(unit)[cohort].first().reindex(wide.index).to_numpy()
    m = None if weights is None else m_wide[complete].to_numpy(dtype=float)
    n_units, n_years = y.shape

    g_fit = np.where(cohorts > years[-1], NEVER_TREATED, cohorts)
    if fit == "cohort_year":
        observed = np.ones_like(y, dtype=bool)
        labels, group = np.unique(g_fit, return_inverse=True)
        # cohort-by-year dummies without each cohort's first year (the agency effects hold it)
        z = np.zeros((n_units, n_years, labels.size * (n_years - 1)))
        for j in range(labels.size):
            for t in range(1, n_years):
                z[group == j, t, j * (n_years - 1) + t - 1] = 1.0
    else:
        observed = (g_fit[:, None] == NEVER_TREATED) | (years[None, :] < g_fit[:, None])
        z = np.zeros((n_units, n_years, n_years - 1))
        for t in range(1, n_years):
            z[:, t, t - 1] = 1.0
    fitted = _reml(
        y,
        z,
        observed,
        m,
        estimate_rho=serial == "ar1",
        employee_var=employee_var,
    )
    between = _between_variance(y, g_fit, fitted, m)
    n_obs = int(observed.sum())
    info = {
        "estimated from": (
            f"{n_obs} agency-years of {n_units} agencies, REML with agency and "
            + ("cohort-by-year" if fit == "cohort_year" else "year (not yet treated)")
            + " fixed effects"
        ),
        "outcome mean (sd)": f"{np.nanmean(y):.4g} ({np.nanstd(y, ddof=1):.4g})",
        "REML log-likelihood": f"{fitted['loglik']:.4f}",
    }
    if weights is not None:
        info["employees"] = f"from column {weights!r}" + (
            "" if employee_var is None else f"; employee variance fixed at {employee_var:.4g}"
        )
    if n_dropped:
        info["dropped"] = f"{n_dropped} agencies not observed in every year"
    return Design(
        units=units,
        cohorts=tuple(int(g) for g in cohorts),
        years=tuple(int(t) for t in years),
        between_var=between,
        shock_var=fitted["shock_var"],
        rho=fitted["rho"],
        employee_var=fitted["employee_var"],
        employees=None if m is None else tuple(m.mean(axis=1)),
        serial=serial,
        outcome=outcome,
        unit=unit,
        info=info,
    )


def _residual_cov(shock_var, rho, employee_var, lag, m):
    """Residual covariance blocks ``shock_var * rho**lag + diag(employee_var / m)``."""
    base = shock_var * (rho**lag if rho != 0 else (lag == 0).astype(float))
    sigma = np.broadcast_to(base, (m.shape[0], *lag.shape)).copy()
    if employee_var > 0:
        idx = np.arange(lag.shape[0])
        sigma[:, idx, idx] += employee_var / m
    return sigma


def _reml(
    y: np.ndarray,
    z: np.ndarray,
    observed: np.ndarray,
    m: np.ndarray | None,
    *,
    estimate_rho: bool,
    employee_var: float | None,
) -> dict[str, float]:
    """REML fit of ``y_i = 1 alpha_i + Z_i gamma + u_i``, ``u_i ~ (0, Sigma_i(theta))``.

    The agency effects ``alpha_i`` are profiled out exactly: with ``P_i = W_i - W_i 1
    (1' W_i 1)^-1 1' W_i`` (``W_i`` the inverse of ``Sigma_i``), minus twice the restricted
    log-likelihood is ``sum_i [log|Sigma_i| + log(1' W_i 1)] + log|sum_i Z_i' P_i Z_i| +
    sum_i y_i' P_i y_i - b' (sum_i Z_i' P_i Z_i)^-1 b`` with ``b = sum_i Z_i' P_i y_i``.
    Agencies are grouped by which years they are observed in, so that each group is one
    batched computation.
    """
    n_units, n_years = y.shape
    with_noise = m is not None
    # keep only agencies with two or more observations (one observation carries no within
    # information) and the columns of Z that vary within agencies
    counts = observed.sum(axis=1)
    keep = counts >= 2
    y, z, observed = y[keep], z[keep], observed[keep]
    m = None if m is None else m[keep]
    within = []
    for i in range(y.shape[0]):
        zi = z[i][observed[i]]
        within.append(zi - zi.mean(axis=0))
    stacked = np.vstack(within)
    # rank-revealing QR of the small Gram matrix (same column space as the stacked design)
    _, r, piv = linalg.qr(stacked.T @ stacked, pivoting=True)
    tol = np.abs(r[0, 0]) * 1e-9 if r.size else 0.0
    rank = int(np.sum(np.abs(np.diag(r)) > tol))

    # Agencies with the same observed years and the same rows of Z (the same cohort) share
    # one Z block, so that sum_i Z_i' P_i Z_i = Z_g' (sum_i P_i) Z_g within a group.
    z = z[:, :, np.sort(piv[:rank])]
    signature = np.concatenate([observed, z.reshape(z.shape[0], -1)], axis=1)
    _, inverse = np.unique(signature, axis=0, return_inverse=True)
    groups = []
    for j in range(inverse.max() + 1):
        rows = np.flatnonzero(inverse.ravel() == j)
        pos = np.flatnonzero(observed[rows[0]])
        lag = np.abs(np.subtract.outer(pos, pos))
        mg = np.ones((rows.size, pos.size)) if m is None else m[np.ix_(rows, pos)]
        groups.append((lag, y[np.ix_(rows, pos)], z[rows[0]][pos, :], mg))

    # starting values: the within (agency-demeaned) OLS residual variance
    y_w = np.concatenate([yi[o] - yi[o].mean() for yi, o in zip(y, observed, strict=True)])
    z_w = np.vstack(within)[:, np.sort(piv[:rank])]
    resid = y_w - z_w @ np.linalg.lstsq(z_w, y_w, rcond=None)[0]
    dof = max(y_w.size - y.shape[0] - rank, 1)
    s2 = max(float(resid @ resid) / dof, 1e-12)
    m_mean = 1.0 if m is None else float(np.mean(m))

    free_noise = with_noise and employee_var is None
    fixed_noise = 0.0 if not with_noise else (employee_var or 0.0)

    def unpack(theta: np.ndarray) -> tuple[float, float, float]:
        shock = float(np.exp(theta[0]))
        rho = float(RHO_BOUND * np.tanh(theta[1])) if estimate_rho else 0.0
        noise = float(np.exp(theta[2])) if free_noise else fixed_noise
        return shock, rho, noise

    def objective(theta: np.ndarray) -> float:
        shock, rho, noise = unpack(theta)
        total = 0.0
        zpz = 0.0
        zpy = 0.0
        for lag, yg, zg, mg in groups:
            sigma = _residual_cov(shock, rho, noise, lag, mg)
            chol = np.linalg.cholesky(sigma)
            total += 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum()
            w = np.linalg.inv(sigma)
            w1 = w.sum(axis=2)
            s = w1.sum(axis=1)
            total += np.log(s).sum()
            p = w - w1[:, :, None] * w1[:, None, :] / s[:, None, None]
            p_sum = p.sum(axis=0)
            py = np.einsum("ukl,ul->uk", p, yg)
            zpz = zpz + zg.T @ p_sum @ zg
            zpy = zpy + zg.T @ py.sum(axis=0)
            total += np.einsum("uk,uk->", yg, py)
        if rank:
            c, lower = linalg.cho_factor(zpz)
            total += 2.0 * np.log(np.diag(c)).sum()
            total -= zpy @ linalg.cho_solve((c, lower), zpy)
        return float(total)

    log_s2 = np.log(s2)
    theta0 = [log_s2 - (np.log(2.0) if free_noise else 0.0), 0.0]
    bounds = [(log_s2 - 18.0, log_s2 + 6.0), (-3.0, 3.0)]
    if free_noise:
        theta0.append(np.log(s2 * m_mean / 2.0))
        bounds.append((np.log(s2 * m_mean) - 18.0, np.log(s2 * m_mean) + 6.0))
    theta0 = np.array(theta0)
    if not estimate_rho:
        bounds[1] = (0.0, 0.0)
    best = optimize.minimize(objective, theta0, method="L-BFGS-B", bounds=bounds)
    shock, rho, noise = unpack(best.x)
    return {
        "shock_var": shock,
        "rho": rho,
        "employee_var": noise,
        "loglik": -0.5 * float(best.fun),
    }


def _between_variance(
    y: np.ndarray, cohorts: np.ndarray, fitted: dict, m: np.ndarray | None
) -> float:
    """Method-of-moments variance of agency levels within cohorts, net of residual noise.

    With ``z_i`` an agency's mean over years, ``E sum_{i in g} (z_i - zbar_g)^2 =
    (1 - 1/n_g) sum_{i in g} (between_var + w_i)``, where ``w_i = 1' Sigma_i 1 / T^2`` is the
    variance of the agency's mean residual. Truncated at 0.
    """
    n_units, n_years = y.shape
    lag = np.abs(np.subtract.outer(np.arange(n_years), np.arange(n_years)))
    m = np.ones((n_units, n_years)) if m is None else m
    sigma = _residual_cov(fitted["shock_var"], fitted["rho"], fitted["employee_var"], lag, m)
    w = sigma.sum(axis=(1, 2)) / n_years**2
    z = y.mean(axis=1)
    numerator, denominator = 0.0, 0.0
    for g in np.unique(cohorts):
        members = cohorts == g
        k = int(members.sum())
        if k < 2:
            continue
        numerator += np.sum((z[members] - z[members].mean()) ** 2)
        numerator -= (1.0 - 1.0 / k) * w[members].sum()
        denominator += k - 1
    if denominator == 0:
        return 0.0
    return max(float(numerator / denominator), 0.0)


# --------------------------------------------------------------------------------------
# The estimators as linear forms
# --------------------------------------------------------------------------------------
def linear_weights(
    design: Design, *, estimator: str = "cs", control_group: str = "never"
) -> np.ndarray:
    """Coefficients ``c_it`` with estimate ``= sum_it c_it Y_it``, shape (N, T).

    ``"cs"``: the Callaway-Sant'Anna overall ATT (simple aggregation) exactly as
    :func:`~asn_eval.estimators.did.att_gt` computes it without covariates: each post-period
    cell ``(g, t)`` compares the change from ``g - 1`` to ``t`` in cohort ``g`` with that among
    never (or not yet) treated agencies, and cells are averaged with weights proportional to
    cohort size. Agencies adopting in the first year are left out. ``"twfe"``: the
    coefficient on ``D_it`` with agency and year effects (Frisch-Waugh-Lovell).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be 'cs' or 'twfe'; got {estimator!r}.")
    if control_group not in CONTROL_GROUPS:
        raise ValueError(f"control_group must be 'never' or 'notyet'; got {control_group!r}.")
    g = design.cohort_array
    periods = np.array(design.years)
    n, n_t = design.n_units, design.n_years
    if estimator == "twfe":
        d = design.treatment()
        d_tilde = d - d.mean(axis=1, keepdims=True) - d.mean(axis=0, keepdims=True) + d.mean()
        scale = float(np.sum(d_tilde**2))
        if scale <= 0:
            raise ValueError("the treatment does not vary beyond agency and year effects.")
        return d_tilde / scale
    keep = (g == NEVER_TREATED) | (g > periods[0])
    groups = np.unique(g[keep & (g != NEVER_TREATED)])
    if groups.size == 0:
        raise ValueError("no agency adopts after the first year; nothing to estimate.")
    if control_group == "never" and not np.any(keep & (g == NEVER_TREATED)):
        raise ValueError(
            "there are no never-treated agencies to compare with; use control_group='notyet'."
        )
    cells = []
    for cohort in groups:
        bi = int(np.flatnonzero(periods < cohort)[-1])
        treat = keep & (g == cohort)
        for ti in np.flatnonzero(periods >= cohort):
            if control_group == "never":
                ctrl = keep & (g == NEVER_TREATED)
            else:
                later = max(periods[ti], periods[bi])
                ctrl = keep & ((g == NEVER_TREATED) | ((g > later) & (g != cohort)))
            if ctrl.any():
                cells.append((treat, ctrl, ti, bi, treat.sum()))
    if not cells:
        raise ValueError("no post-adoption cell has a comparison group.")
    sizes = np.array([c[4] for c in cells], dtype=float)
    weights = sizes / sizes.sum()
    c = np.zeros((n, n_t))
    for (treat, ctrl, ti, bi, n_treat), w in zip(cells, weights, strict=True):
        n_ctrl = ctrl.sum()
        c[treat, ti] += w / n_treat
        c[treat, bi] -= w / n_treat
        c[ctrl, ti] -= w / n_ctrl
        c[ctrl, bi] += w / n_ctrl
    return c


def estimator_variance(
    design: Design, *, estimator: str = "cs", control_group: str = "never"
) -> float:
    """Exact variance ``sum_i c_i' Sigma_i c_i`` of the estimator under the design."""
    c = linear_weights(design, estimator=estimator, control_group=control_group)
    return float(np.einsum("it,its,is->", c, design.covariance(), c))


# --------------------------------------------------------------------------------------
# Analytic MDE
# --------------------------------------------------------------------------------------
def t_power(effect, std_error: float, df: float, alpha: float = 0.05):
    """Power of the two-sided t test of size ``alpha`` when the true effect is ``effect``.

    ``P(|T| > t_{1-alpha/2, df})`` with ``T`` noncentral t with ``df`` degrees of freedom and
    noncentrality ``|effect| / std_error`` (the convention of statsmodels' ``TTestIndPower``).
    """
    crit = stats.t.ppf(1.0 - alpha / 2.0, df)
    ncp = np.abs(np.asarray(effect, dtype=float)) / std_error
    # scipy returns nan for the far tail of a large noncentrality, where it is 0
    wrong_side = np.nan_to_num(stats.nct.cdf(-crit, df, ncp), nan=0.0)
    out = stats.nct.sf(crit, df, ncp) + wrong_side
    return float(out) if np.ndim(out) == 0 else out


def _check_levels(power: float, alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie between 0 and 1; got {alpha!r}.")
    if not alpha / 2 < power < 1:
        raise ValueError(f"power must lie between alpha/2 and 1; got {power!r}.")


@dataclass(frozen=True, eq=False)
class MDEResult:
    """Minimum detectable effect of one estimator under one design.

    ``mde`` is Bloom's ``(t_{1-alpha/2, df} + t_{power, df}) * std_error``; ``mde_exact``
    solves the noncentral-t power equation (:func:`t_power`) exactly, and is slightly smaller.
    """

    design: Design
    estimator: str
    control_group: str
    alpha: float
    power: float
    std_error: float
    df: float
    mde: float
    mde_exact: float
    next_year: bool = True
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return f"Minimum detectable effect: {ESTIMATOR_NAMES[self.estimator]}"

    @property
    def outcome(self) -> str:
        return self.design.outcome

    @property
    def multiplier(self) -> float:
        """``t_{1-alpha/2, df} + t_{power, df}`` (2.80 for a normal reference at 5% and 80%)."""
        return float(stats.t.ppf(1 - self.alpha / 2, self.df) + stats.t.ppf(self.power, self.df))

    def power_at(self, effect):
        """Analytic power at ``effect`` (scalar or array), from the noncentral t."""
        return t_power(np.abs(effect), self.std_error, self.df, self.alpha)

    def to_frame(self) -> pd.DataFrame:
        d = self.design
        return pd.DataFrame(
            [
                {
                    "outcome": d.outcome,
                    "estimator": self.estimator,
                    "control_group": self.control_group,
                    "first_year": d.years[0],
                    "last_year": d.years[-1],
                    "n_agencies": d.n_clusters,
                    "n_never": d.n_never,
                    "std_error": self.std_error,
                    "df": self.df,
                    "alpha": self.alpha,
                    "power": self.power,
                    "mde": self.mde,
                    "mde_exact": self.mde_exact,
                }
            ]
        )

    def statement(self) -> str:
        when = "next year's data" if self.next_year else "the data"
        return (
            f"With {self.design._design_words()}, {when} could detect an effect on "
            f"{self.outcome} of {self.mde:.3g} or larger (in either direction) with "
            f"{self.power:.0%} power in a two-sided test at the {self.alpha:.0%} level "
            f"({ESTIMATOR_NAMES[self.estimator]}, {CONTROL_NAMES[self.control_group]} "
            f"comparison; standard error {self.std_error:.3g}, t with {self.df:g} degrees of "
            "freedom, G - 1 for G agencies)."
        )

    def summary(self) -> Summary:
        return Summary(self)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __str__(self) -> str:
        return str(self.summary())

    def plot(self, ax=None, **kwargs):
        """Power curve: analytic power against the true effect; returns the Axes."""
        return _plot_power(self, None, ax=ax, **kwargs)


def mde(
    design: Design,
    *,
    power: float = 0.80,
    alpha: float = 0.05,
    estimator: str = "cs",
    control_group: str = "never",
    next_year: bool = True,
    planned: Mapping[Any, int] | None = None,
    df: float | None = None,
) -> MDEResult:
    """Analytic minimum detectable effect of the overall ATT for a staggered design.

    The estimator is a fixed linear form in the agency-year outcomes given the cohorts
    (:func:`linear_weights`), so its standard error under the design's variance model is
    exact (:func:`estimator_variance`). The MDE is ``(t_{1-alpha/2, df} + t_{power, df}) *
    SE`` (Bloom 1995; Duflo, Glennerster and Kremer 2007, section 4.1), with ``df = G - 1``
    for ``G`` agencies, the reference distribution of att_gt's intervals clustered by agency.
    Variation of the weights across cohorts with the estimated cohort shares (R's did "wif"
    term) is ignored: it vanishes when the effect is the same in every cell.

    Parameters
    ----------
    design
        From :func:`estimate_design` or :meth:`Design.from_counts`.
    power, alpha
        Target power and two-sided size.
    estimator
        ``"cs"`` (Callaway-Sant'Anna, simple aggregation) or ``"twfe"``.
    control_group
        ``"never"`` (att_gt's default) or ``"notyet"``.
    next_year
        Add one more year of data to the design (next year's evaluation), cohorts as known.
    planned
        Planned adoptions ``{agency: year}`` of agencies not yet adopting.
    df
        Degrees of freedom of the t reference instead of ``G - 1``.

    Returns
    -------
    MDEResult

    Examples
    --------
    >>> d = Design.from_counts({2021: 10, 2023: 10, 0: 5}, years=range(2019, 2026),
    ...                        between_var=1.0, shock_var=0.5, rho=0.3)
    >>> res = mde(d)
    >>> res.design.years[-1], res.df
    (2026, 24.0)
    """
    _check_levels(power, alpha)
    if next_year or planned:
        design = design.extend(1 if next_year else 0, planned=planned)
    se = float(
        np.sqrt(estimator_variance(design, estimator=estimator, control_group=control_group))
    )
    df = float(design.df if df is None else df)
    if df < 1:
        raise ValueError(f"need at least two agencies (df = G - 1 >= 1); got df = {df:g}.")
    bloom = float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se)

    def gap(effect: float) -> float:
        return t_power(effect, se, df, alpha) - power

    upper = bloom
    while gap(upper) < 0:
        upper *= 1.5
    exact = float(optimize.brentq(gap, 1e-12 * se, upper, xtol=1e-14 * se))
    return MDEResult(
        design=design,
        estimator=estimator,
        control_group=control_group,
        alpha=alpha,
        power=power,
        std_error=se,
        df=df,
        mde=bloom,
        mde_exact=exact,
        next_year=next_year,
        info={
            "design": design._design_words(),
            "comparison": CONTROL_NAMES[control_group],
            "MDE (Bloom)": f"{bloom:.4g}",
            "MDE (noncentral t)": f"{exact:.4g}",
        },
    )


# --------------------------------------------------------------------------------------
# Power by simulation
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SimulatedPower:
    """Rejection rate of att_gt's test across panels simulated from a design.

    ``estimates``/``std_errors`` are the overall ATT and its analytic standard error in each
    simulated panel at the true ``effect``. With a constant effect, adding ``delta`` to the
    effect adds exactly ``delta`` to every estimate and leaves its standard error unchanged
    (every comparison differences the effect out of the controls, and the influence function
    is a deviation from cohort means), so :meth:`power_at` evaluates the rejection rate at any
    other effect from the same draws.
    """

    design: Design
    effect: float
    estimates: np.ndarray = field(repr=False)
    std_errors: np.ndarray = field(repr=False)
    df: float
    alpha: float
    target_power: float
    analytic: MDEResult
    seed: Any = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return f"Simulated power: att_gt, {ESTIMATOR_NAMES['cs']}"

    @property
    def outcome(self) -> str:
        return self.design.outcome

    @property
    def n_sim(self) -> int:
        return int(self.estimates.size)

    @property
    def critical(self) -> float:
        return float(stats.t.ppf(1 - self.alpha / 2, self.df))

    def power_at(self, effect):
        """Share of simulated panels whose test rejects when the true effect is ``effect``."""
        effect = np.atleast_1d(np.asarray(effect, dtype=float))
        shifted = self.estimates[None, :] - self.effect + effect[:, None]
        with np.errstate(invalid="ignore"):
            reject = np.abs(shifted) > self.critical * self.std_errors[None, :]
        out = reject.mean(axis=1)
        return float(out[0]) if out.size == 1 else out

    @property
    def power(self) -> float:
        """Rejection rate at ``effect``."""
        return self.power_at(self.effect)

    @property
    def size(self) -> float:
        """Rejection rate when there is no effect (the test's actual size)."""
        return self.power_at(0.0)

    @property
    def mc_error(self) -> float:
        """Monte Carlo standard error of :attr:`power`."""
        return float(np.sqrt(self.power * (1 - self.power) / self.n_sim))

    @property
    def mde(self) -> float:
        """Smallest positive effect with simulated power >= ``target_power`` (bisection)."""
        lo, hi = 0.0, max(self.analytic.mde, np.nanmax(self.std_errors))
        for _ in range(60):
            if self.power_at(hi) >= self.target_power:
                break
            hi *= 2.0
        else:
            return np.nan
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if self.power_at(mid) >= self.target_power:
                hi = mid
            else:
                lo = mid
        return float(hi)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "effect": self.effect,
                    "n_sim": self.n_sim,
                    "power": self.power,
                    "mc_error": self.mc_error,
                    "size": self.size,
                    "analytic_power": self.analytic.power_at(self.effect),
                    "mde_simulated": self.mde,
                    "mde_analytic": self.analytic.mde,
                    "mean_std_error": float(np.nanmean(self.std_errors)),
                    "design_std_error": self.analytic.std_error,
                }
            ]
        )

    def statement(self) -> str:
        text = (
            f"In {self.n_sim} panels simulated from the design ({self.design._design_words()}), "
            f"att_gt's two-sided {self.alpha:.0%} test rejected in {self.power:.1%} (Monte Carlo "
            f"standard error {self.mc_error:.1%}) when the true effect was {self.effect:.3g}; "
            f"the analytic power there is {self.analytic.power_at(self.effect):.1%}. "
            f"Simulated MDE at {self.target_power:.0%} power: {self.mde:.3g} (analytic "
            f"{self.analytic.mde:.3g})."
        )
        # a test that rejects too often without an effect also looks more powerful than it is
        size_error = np.sqrt(self.alpha * (1 - self.alpha) / self.n_sim)
        if self.size > self.alpha + 2 * size_error:
            text += (
                f" Without an effect the test rejected in {self.size:.1%}, more than its nominal "
                f"{self.alpha:.0%}: its standard error is too small for this design (few "
                "comparison agencies), so its power is overstated."
            )
        return text

    def plot(self, ax=None, **kwargs):
        """Simulated power curve (with +-2 Monte Carlo SE) over the analytic one; the Axes."""
        return _plot_power(self.analytic, self, ax=ax, **kwargs)


def simulated_power(
    design: Design,
    *,
    effect: float,
    n_sim: int = DEFAULT_N_SIM,
    seed: int | None = 0,
    alpha: float = 0.05,
    power: float = 0.80,
    control_group: str = "never",
    next_year: bool = True,
    planned: Mapping[Any, int] | None = None,
) -> SimulatedPower:
    """Power by simulation: att_gt (analytic SE, clustered by agency) on simulated panels.

    Each panel is drawn from the design's variance model (Gaussian) with a constant true
    ``effect`` on adopting agencies from their adoption year; att_gt's overall ATT (simple
    aggregation) is tested two-sided with its t(G - 1) reference, and the share of
    rejections is the power. ``power`` only sets the target of the simulated MDE
    (:attr:`SimulatedPower.mde`).

    Examples
    --------
    >>> d = Design.from_counts({2021: 10, 2023: 10, 0: 5}, years=range(2019, 2026),
    ...                        between_var=1.0, shock_var=0.5)
    >>> sim = simulated_power(d, effect=1.0, n_sim=20, seed=1)
    >>> sim.n_sim
    20
    """
    from asn_eval.estimators import att_gt

    _check_levels(power, alpha)
    if n_sim < 1:
        raise ValueError(f"n_sim must be >= 1; got {n_sim}.")
    analytic = mde(
        design,
        power=power,
        alpha=alpha,
        control_group=control_group,
        next_year=next_year,
        planned=planned,
    )
    used = analytic.design
    outcomes = used.draw(n_sim, seed=seed) + effect * used.treatment()[None]
    frame = _long_frame(used)
    estimates = np.empty(n_sim)
    std_errors = np.empty(n_sim)
    df = np.nan
    for k in range(n_sim):
        frame["y"] = outcomes[k].ravel()
        res = att_gt(
            frame,
            outcome="y",
            unit="unit",
            time="year",
            cohort="cohort",
            control_group=control_group,
            cluster="unit",
        ).aggregate("simple")
        estimates[k], std_errors[k], df = res.overall_att, res.overall_se, res.df
    return SimulatedPower(
        design=used,
        effect=float(effect),
        estimates=estimates,
        std_errors=std_errors,
        df=float(df),
        alpha=alpha,
        target_power=power,
        analytic=analytic,
        seed=seed,
        info={
            "design": used._design_words(),
            "draws": f"{n_sim} Gaussian panels (seed {seed})",
            "test": f"att_gt overall ATT, analytic SE clustered by agency, t({df:g})",
        },
    )


def mde_by_simulation(
    design: Design,
    *,
    power: float = 0.80,
    alpha: float = 0.05,
    n_sim: int = DEFAULT_N_SIM,
    seed: int | None = 0,
    control_group: str = "never",
    next_year: bool = True,
    planned: Mapping[Any, int] | None = None,
) -> SimulatedPower:
    """The MDE by simulation: bisection on the effect of att_gt's simulated power.

    Panels are simulated once at the analytic MDE; by the shift identity of
    :class:`SimulatedPower` the power at any other effect comes from the same draws, so the
    bisection costs no further att_gt runs. Read the result's ``mde``.
    """
    analytic = mde(
        design,
        power=power,
        alpha=alpha,
        control_group=control_group,
        next_year=next_year,
        planned=planned,
    )
    return simulated_power(
        design,
        effect=analytic.mde,
        n_sim=n_sim,
        seed=seed,
        alpha=alpha,
        power=power,
        control_group=control_group,
        next_year=next_year,
        planned=planned,
    )


# --------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------
def _plot_power(analytic: MDEResult, simulated: SimulatedPower | None, *, ax=None, **kwargs):
    """Drawn by :func:`asn_eval.report.plots.power_curve` (``effects``, ``lang``)."""
    return plotting_backend().power_curve(analytic, simulated, ax=ax, **kwargs)
