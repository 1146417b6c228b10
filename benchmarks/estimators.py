"""Speed and memory of the project's estimators against the reference libraries.

Usage::

    python benchmarks/estimators.py --scale city|province|national

Generates a staggered-adoption panel (employees nested in agencies, agencies adopting in
different years, effects that grow with time since adoption) and, on the same data, runs

* ``asn_eval.estimators.twfe`` clustered by agency, against pyfixest ``feols`` (CRV1) and
  linearmodels ``PanelOLS`` (clustered);
* ``asn_eval.estimators.did.att_gt`` (no covariates, analytic SEs), against ``csdid``, at
  the largest scale where csdid fits (at most ``--csdid-units`` employees, 1,000,000 by
  default; above that both run on a panel of that many employees);
* ``asn_eval.estimators.did_imputation`` (Borusyak, Jaravel and Spiess 2024), against
  pyfixest's ``did2s`` (Gardner's two-stage estimator, the same point estimate), on at most
  ``DID2S_UNITS`` employees (did2s takes minutes above that; ours runs at the full scale too).

``--scale prop99`` instead times ``asn_eval.estimators.synthetic_did`` with its placebo
standard error (200 replications, seed 0) on California's Proposition 99 (the data of
``tests/estimators/references/synthetic``) against diff-diff's ``SyntheticDiD`` with the same
replications and seed (the same permutations, so the same SE). diff-diff pins other numpy
and pandas versions than the project, so it runs under another interpreter in the same run:
``--peer-python`` (default ``/tmp/peer-venv/bin/python``, the environment
``make_references.py`` there describes). The same run times ``synthetic_control`` (point
estimate) against diff-diff's ``SyntheticControl`` with every pre-period outcome as a
predictor and equal weights V, which solves the same simplex least squares exactly, without
synthdid's 1e-6 ridge, where ``sc_estimate`` stops after synthdid's Frank-Wolfe steps: not
the same estimator, and labelled so; and ``block_did`` (point estimate) against diff-diff's
``DifferenceInDifferences`` and ``TwoWayFixedEffects`` on the treated-by-post design and the
synthdid port's ``did=True``, the same estimator. Each is timed as the best of ``--repeat``
runs.

With ``--options``, ``att_gt``'s options of issue 22 (``panel=False`` on repeated
cross-sections, ``allow_unbalanced=True`` on a panel with 5% of its rows lost, sampling
``weights``, ``est_method="ipw"|"reg"`` with a covariate) are timed on data derived from the
same panel (:func:`option_data`) against moderndid (the Python port of R's did, in this
environment) and diff-diff (``CallawaySantAnna``, in the interpreter ``PEER_PYTHON`` if it
exists), and written to ``benchmarks/results/options-<scale>.json``.

Each estimator runs in its own subprocess so that its peak memory (``ru_maxrss``, which
includes the generated data) is its own. Before a reference library runs, its expected peak
(from the per-row footprint measured on this machine) is compared with the memory available
now; peers that would not fit are skipped with a note. Results are printed and written to
``benchmarks/results/<scale>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SCALES = {
    # employees, years, agencies: Kota Kupang (~40 OPD), a province (NTT: 22 local
    # governments x ~40 OPD), all ASN (4.47 million, ~550 local governments x ~40 OPD).
    "city": (6_000, 7, 40),
    "province": (120_000, 7, 880),
    "national": (4_500_000, 6, 22_000),
}
FIRST_YEAR = 2019
CSDID_UNITS = 1_000_000
DID2S_UNITS = 20_000
# Peak bytes per panel row measured here at national scale (issue 6): used only to decide
# whether a reference library would fit in the memory available now.
BYTES_PER_ROW = {"pyfixest": 450, "linearmodels": 630, "csdid": 700, "did2s": 900}
MEMORY_HEADROOM = 0.85
TARGETS = {"pyfixest": 3.0, "linearmodels": 10.0, "csdid": 3.0, "did2s": 3.0, "diff_diff": 1.0}
PROP99 = HERE.parent / "tests" / "estimators" / "references" / "synthetic" / "california_prop99.csv"
PLACEBO = {"replications": 200, "seed": 0}
PEER_PYTHON = "/tmp/peer-venv/bin/python"
# Workers on Prop 99 rather than the generated panel, and those that run under --peer-python.
PROP99_WORKERS = ("synthetic_did", "diff_diff_sdid", "synthetic_control", "diff_diff_sc",
                  "block_did", "diff_diff_did", "diff_diff_twfe", "synthdid_py_did")  # fmt: skip
PEER_INTERPRETER = ("diff_diff_sdid", "diff_diff_sc", "diff_diff_did", "diff_diff_twfe",
                    "synthdid_py_did")  # fmt: skip
# Prop 99 comparisons: ours, the peer, whether the peer computes the same estimator.
PROP99_PAIRS = (
    ("synthetic_did", "diff_diff_sdid", True),
    ("synthetic_control", "diff_diff_sc", False),
    ("block_did", "diff_diff_did", True),
    ("block_did", "diff_diff_twfe", True),
    ("block_did", "synthdid_py_did", True),
)
# A Prop 99 repeat calls the estimator as many times as fill this many seconds (taken from
# the warm-up), so that estimators of a few milliseconds are not timed at the clock's grain.
PROP99_MIN_SECONDS = 0.2
PEAK_LIMIT_GB = 8.0
# att_gt's options (issue 22) and the peers timed on them; diff-diff lives in its own venv
OPTIONS = ("rcs", "unbalanced", "weights", "ipw", "reg")
OPTION_PEERS = ("moderndid", "diffdiff")
PEER_PYTHON = Path(os.environ.get("ASN_EVAL_PEER_PYTHON", "/tmp/peer-venv/bin/python"))
OPTION_TIMEOUT = 900  # seconds; a peer slower than this is recorded as too slow


def generate_panel(n_units: int, n_years: int, n_agencies: int, seed: int = 2024) -> pd.DataFrame:
    """Balanced staggered panel, vectorised (no loop over units); ~48 bytes per row."""
    rng = np.random.default_rng(seed)
    # Adoption years start in the third year so every cohort has pre-periods; 0 = never.
    choices = np.array([0] + [FIRST_YEAR + k for k in range(2, n_years)], dtype=np.int64)
    agency_cohort = rng.choice(choices, n_agencies)
    unit_agency = rng.integers(0, n_agencies, n_units)
    unit_effect = rng.normal(size=n_units)
    n_rows = n_units * n_years
    employee = np.repeat(np.arange(n_units, dtype=np.int64), n_years)
    year = np.tile(np.arange(FIRST_YEAR, FIRST_YEAR + n_years, dtype=np.int64), n_units)
    agency = np.repeat(unit_agency.astype(np.int64), n_years)
    cohort = agency_cohort[agency]
    event = year - cohort
    treated = ((cohort > 0) & (event >= 0)).astype(np.float64)
    # Effects differ by cohort and grow with exposure: where TWFE and att_gt part ways.
    y = rng.normal(size=n_rows)
    y += np.repeat(unit_effect, n_years)
    y += 0.05 * (year - FIRST_YEAR)
    y += treated * (0.2 + 0.1 * event + 0.02 * (cohort - FIRST_YEAR))
    return pd.DataFrame(
        {
            "employee": employee,
            "year": year,
            "agency": agency,
            "cohort": cohort,
            "treated": treated,
            "y": y,
        }
    )


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def _run_twfe(data):
    from asn_eval.estimators.twfe import twfe

    res = twfe(data, outcome="y", treatment="treated", unit="employee", time="year",
               cluster="agency")  # fmt: skip
    return {"coef": float(res.params["treated"]), "se": float(res.std_errors["treated"])}


def _run_pyfixest(data):
    import pyfixest as pf

    fit = pf.feols("y ~ treated | employee + year", data=data, vcov={"CRV1": "agency"})
    return {"coef": float(fit.coef()["treated"]), "se": float(fit.se()["treated"])}


def _run_linearmodels(data):
    from linearmodels import PanelOLS

    indexed = data.set_index(["employee", "year"])
    model = PanelOLS(indexed["y"], indexed[["treated"]], entity_effects=True, time_effects=True)
    fit = model.fit(cov_type="clustered", clusters=indexed["agency"])
    return {"coef": float(fit.params["treated"]), "se": float(fit.std_errors["treated"])}


def _run_att_gt(data):
    from asn_eval.estimators.did import att_gt

    res = att_gt(data, outcome="y", unit="employee", time="year", cohort="cohort")
    frame = res.to_frame()
    simple = res.aggregate("simple")
    return {
        "overall_att": float(simple.overall_att),
        "overall_se": float(simple.overall_se),
        "att_gt": {
            f"{int(c)}-{int(t)}": float(e)
            for c, t, e in frame[["cohort", "time", "estimate"]].itertuples(index=False)
        },  # fmt: skip
        "att_gt_se": {
            f"{int(c)}-{int(t)}": float(e)
            for c, t, e in frame[["cohort", "time", "std_error"]].itertuples(index=False)
        },  # fmt: skip
    }


def _run_csdid(data):
    from csdid.att_gt import ATTgt

    model = ATTgt(yname="y", tname="year", idname="employee", gname="cohort", data=data,
                  control_group="nevertreated")  # fmt: skip
    model.fit(est_method="dr", base_period="varying", bstrap=False)
    cells = model.results
    keys = [f"{int(g)}-{int(t)}" for g, t in zip(cells["group"], cells["year"], strict=True)]
    model.aggte(typec="simple", bstrap=False)
    return {
        "overall_att": float(model.atte["overall_att"]),
        "overall_se": float(model.atte["overall_se"]),
        "att_gt": dict(zip(keys, map(float, cells["att"]), strict=True)),
        "att_gt_se": dict(zip(keys, map(float, cells["se"]), strict=True)),
    }


def _run_did_imputation(data):
    from asn_eval.estimators import did_imputation

    res = did_imputation(data, outcome="y", unit="employee", time="year", cohort="cohort",
                         cluster="agency")  # fmt: skip
    return {"overall_att": float(res.overall_att), "overall_se": float(res.overall_se)}


def _run_did2s(data):
    import pyfixest as pf

    never = data["cohort"] == 0
    data = data.assign(treat=(~never & (data["year"] >= data["cohort"])))
    fit = pf.did2s(data, yname="y", first_stage="~0|employee+year", second_stage="~treat",
                   treatment="treat", cluster="agency")  # fmt: skip
    return {"overall_att": float(fit.coef().iloc[0]), "overall_se": float(fit.se().iloc[0])}


def _prop99() -> pd.DataFrame:
    return pd.read_csv(PROP99, sep=";")


def _run_synthetic_did(data, replications=PLACEBO["replications"]):
    from asn_eval.estimators import synthetic_did

    res = synthetic_did(data, outcome="PacksPerCapita", unit="State", time="Year",
                        treated="treated", replications=replications,
                        seed=PLACEBO["seed"])  # fmt: skip
    return {"estimate": res.estimate, "se": res.std_error}


def _run_diff_diff_sdid(data, replications=PLACEBO["replications"]):
    import warnings
    from importlib.metadata import version

    from diff_diff import SyntheticDiD

    data = data.assign(ever=data.groupby("State")["treated"].transform("max"))
    post = sorted(data.loc[data["treated"] == 1, "Year"].unique().tolist())
    model = SyntheticDiD(variance_method="placebo", n_bootstrap=replications,
                         seed=PLACEBO["seed"])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(data, outcome="PacksPerCapita", treatment="ever", unit="State",
                        time="Year", post_periods=post)  # fmt: skip
    return {"estimate": float(fit.att), "se": float(fit.se),
            "versions": {p: version(p) for p in ("diff-diff", "numpy", "pandas")}}  # fmt: skip


def _run_synthetic_control(data, replications=None):
    """Point estimate only: the peer (diff-diff's SyntheticControl) has no standard error."""
    from asn_eval.estimators import synthetic_control

    res = synthetic_control(data, outcome="PacksPerCapita", unit="State", time="Year",
                            treated="treated", se_method="none")  # fmt: skip
    return {"estimate": res.estimate, "weights": res.unit_weights.to_dict()}


def _run_diff_diff_sc(data, replications=None):
    """diff-diff's classic SCM with every pre-period outcome as a predictor, equal (custom)
    V and no standardisation: the simplex least squares of synthdid's ``sc_estimate``
    without its 1e-6 ridge, solved exactly (NNLS) where synthdid runs Frank-Wolfe steps."""
    import warnings
    from importlib.metadata import version

    from diff_diff import SyntheticControl

    pre = sorted(set(data["Year"]) - set(data.loc[data["treated"] == 1, "Year"]))
    model = SyntheticControl(v_method="custom", custom_v=np.ones(len(pre)), standardize="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(data, outcome="PacksPerCapita", treatment="treated", unit="State",
                        time="Year", pre_period_outcomes="all")  # fmt: skip
    return {"estimate": float(fit.att), "weights": dict(fit.donor_weights),
            "versions": {p: version(p) for p in ("diff-diff", "numpy", "pandas")}}  # fmt: skip


def _pre_mse(weights: dict) -> float:
    """Mean squared pre-treatment gap between California and a synthetic control: the
    objective both SC solvers minimise (up to synthdid's 1e-6 ridge)."""
    data = _prop99()
    wide = data.pivot(index="State", columns="Year", values="PacksPerCapita")
    treated = data.loc[data["treated"] == 1]
    pre = [year for year in wide.columns if year < treated["Year"].min()]
    target = wide.loc[treated["State"].unique(), pre].mean()
    w = pd.Series(weights, dtype=float).reindex(wide.index).fillna(0.0)
    return float(np.mean((w @ wide[pre] - target) ** 2))


def _run_block_did(data, replications=None):
    """Point estimate only, as the peers' (their analytic SEs are not synthdid's placebo)."""
    from asn_eval.estimators import block_did

    res = block_did(data, outcome="PacksPerCapita", unit="State", time="Year",
                    treated="treated", se_method="none")  # fmt: skip
    return {"estimate": res.estimate}


def _did_design(data):
    ever = data.groupby("State")["treated"].transform("max")
    onset = data.loc[data["treated"] == 1, "Year"].min()
    return data.assign(ever=ever, post=(data["Year"] >= onset).astype(int))


def _run_diff_diff_did(data, replications=None, estimator="DifferenceInDifferences"):
    import warnings
    from importlib.metadata import version

    import diff_diff

    data = _did_design(data)
    extra = {"unit": "State"} if estimator == "TwoWayFixedEffects" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(diff_diff, estimator)()
        fit = model.fit(data, outcome="PacksPerCapita", treatment="ever", time="post", **extra)
    return {"estimate": float(fit.att),
            "versions": {p: version(p) for p in ("diff-diff", "numpy", "pandas")}}  # fmt: skip


def _run_diff_diff_twfe(data, replications=None):
    return _run_diff_diff_did(data, estimator="TwoWayFixedEffects")


def _run_synthdid_py_did(data, replications=None):
    """d2cml-ai's synthdid port, ``did=True`` (uniform weights); it rounds to 5 decimals."""
    from importlib.metadata import version

    from synthdid.synthdid import Synthdid

    model = Synthdid(data, "State", "Year", "treated", "PacksPerCapita").fit(did=True)
    return {"estimate": float(np.ravel(model.att)[0]),
            "versions": {p: version(p) for p in ("synthdid", "numpy", "pandas")}}  # fmt: skip


def option_data(panel: pd.DataFrame, option: str, seed: int = 7) -> pd.DataFrame:
    """The data ``option`` is timed on, derived from the benchmark panel.

    ``rcs``: every employee answers in one random year (repeated cross-sections, one row per
    employee); ``unbalanced``: 5% of the employee-years lost at random; ``weights``: a
    sampling weight per employee, uniform on [0.5, 2]; ``ipw``/``reg``: a covariate ``x``
    constant within employee and more common among treated agencies.
    """
    rng = np.random.default_rng(seed)
    employees = int(panel["employee"].max()) + 1
    if option == "rcs":
        years = np.sort(panel["year"].unique())
        chosen = rng.choice(years, employees)
        out = panel[panel["year"].to_numpy() == chosen[panel["employee"].to_numpy()]]
    elif option == "unbalanced":
        out = panel[rng.random(len(panel)) >= 0.05]
    elif option == "weights":
        out = panel.assign(w=rng.uniform(0.5, 2.0, employees)[panel["employee"].to_numpy()])
    else:
        shift = 0.3 * (panel["cohort"].to_numpy() > 0)
        x = rng.normal(size=employees)[panel["employee"].to_numpy()] + shift
        out = panel.assign(x=x)
    out = out.reset_index(drop=True)
    out["rowid"] = np.arange(len(out))  # the row id the peers want for cross-sections
    return out


def _cells(keys, estimates, ses, overall_att, overall_se) -> dict:
    keys = [f"{int(g)}-{int(t)}" for g, t in keys]
    return {
        "overall_att": float(overall_att),
        "overall_se": float(overall_se),
        "att_gt": dict(zip(keys, map(float, estimates), strict=True)),
        "att_gt_se": dict(zip(keys, map(float, ses), strict=True)),
    }


_OUR_OPTIONS = {
    "rcs": dict(panel=False),
    "unbalanced": dict(allow_unbalanced=True),
    "weights": dict(weights="w"),
    "ipw": dict(covariates=["x"], est_method="ipw"),
    "reg": dict(covariates=["x"], est_method="reg"),
}


def _run_att_gt_option(data, option):
    from asn_eval.estimators.did import att_gt

    res = att_gt(data, outcome="y", unit="employee", time="year", cohort="cohort",
                 **_OUR_OPTIONS[option])  # fmt: skip
    simple = res.aggregate("simple")
    return _cells(res.params.index, res.params, res.std_errors, simple.overall_att,
                  simple.overall_se)  # fmt: skip


def _run_moderndid_option(data, option):
    import moderndid

    options = dict(yname="y", tname="year", gname="cohort", idname="employee")
    options |= {
        "rcs": dict(panel=False, idname="rowid"),
        # moderndid 0.2.0 fails with panel=True here; panel=False runs R did's unbalanced path
        "unbalanced": dict(panel=False, allow_unbalanced_panel=True),
        "weights": dict(weightsname="w"),
        "ipw": dict(xformla="~x", est_method="ipw"),
        "reg": dict(xformla="~x", est_method="reg"),
    }[option]
    res = moderndid.att_gt(data, **options)
    # moderndid 0.2.0's aggte drops the sampling weights (tests/estimators/did/references):
    # its simple ATT with weights is not R's, so only its cells are compared there
    simple = moderndid.aggte(res, type="simple")
    return _cells(zip(res.groups, res.times, strict=True), res.att_gt, res.se_gt,
                  simple.overall_att, simple.overall_se)  # fmt: skip


def _run_diffdiff_option(data, option):
    from diff_diff import CallawaySantAnna, SurveyDesign

    model = {
        "rcs": dict(panel=False),
        "unbalanced": dict(allow_unbalanced_panel=True),
        "weights": {},
        "ipw": dict(estimation_method="ipw"),
        "reg": dict(estimation_method="reg"),
    }[option]
    fit = {
        "weights": dict(survey_design=SurveyDesign(weights="w")),
        "ipw": dict(covariates=["x"]),
        "reg": dict(covariates=["x"]),
    }.get(option, {})
    unit = "rowid" if option == "rcs" else "employee"
    res = CallawaySantAnna(**model).fit(data, "y", unit, "year", "cohort", **fit)
    cells = res.group_time_effects
    return _cells(cells, [c["effect"] for c in cells.values()],
                  [c["se"] for c in cells.values()], res.overall_att, res.overall_se)  # fmt: skip


WORKERS = {
    "twfe": _run_twfe,
    "pyfixest": _run_pyfixest,
    "linearmodels": _run_linearmodels,
    "att_gt": _run_att_gt,
    "csdid": _run_csdid,
    "did_imputation": _run_did_imputation,
    "did2s": _run_did2s,
    "synthetic_did": _run_synthetic_did,
    "diff_diff_sdid": _run_diff_diff_sdid,
    "synthetic_control": _run_synthetic_control,
    "diff_diff_sc": _run_diff_diff_sc,
    "block_did": _run_block_did,
    "diff_diff_did": _run_diff_diff_did,
    "diff_diff_twfe": _run_diff_diff_twfe,
    "synthdid_py_did": _run_synthdid_py_did,
}
_OPTION_RUNNERS = {
    "att_gt": _run_att_gt_option,
    "moderndid": _run_moderndid_option,
    "diffdiff": _run_diffdiff_option,
}
for _lib, _runner in _OPTION_RUNNERS.items():
    for _option in OPTIONS:
        WORKERS[f"{_lib}:{_option}"] = lambda data, runner=_runner, option=_option: runner(
            data, option
        )


def worker(name: str, n_units: int, n_years: int, n_agencies: int, repeat: int = 1) -> None:
    """Generate the panel, run one estimator, print one JSON line (run in a subprocess).

    A warm-up run on a tiny panel first keeps import and compilation time out of the timing.
    On Prop 99 the warm-up is a run with two placebo replications and one full run (which
    sets how many calls a repeat makes, ``PROP99_MIN_SECONDS``), and the timing the best of
    ``repeat`` runs, per call. An option's worker (``lib:option``) runs on the data derived for it
    (:func:`option_data`).
    """
    if name in PROP99_WORKERS:
        data = _prop99()
        data_gb = _peak_gb()
        WORKERS[name](data, replications=2)
        start = time.perf_counter()
        WORKERS[name](data)
        loops = max(1, int(PROP99_MIN_SECONDS / (time.perf_counter() - start)))
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(loops):
                estimates = WORKERS[name](data)
            times.append((time.perf_counter() - start) / loops)
        print(json.dumps({"seconds": min(times), "all_seconds": times, "loops": loops,
                          "peak_gb": _peak_gb(), "data_gb": data_gb, **estimates}))  # fmt: skip
        return

    def make(*args, **kwargs):
        data = generate_panel(*args, **kwargs)
        return option_data(data, name.split(":")[1]) if ":" in name else data

    WORKERS[name](make(200, n_years, 10, seed=1))
    start = time.perf_counter()
    data = make(n_units, n_years, n_agencies)
    generated = time.perf_counter() - start
    data_gb = _peak_gb()
    start = time.perf_counter()
    estimates = WORKERS[name](data)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_gb": _peak_gb(), "data_gb": data_gb,
                      "generate_seconds": generated, **estimates}))  # fmt: skip


def _available_gb() -> float:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def _launch(
    name: str,
    n_units: int,
    n_years: int,
    n_agencies: int,
    *,
    python: str = sys.executable,
    timeout: float | None = None,
    repeat: int = 1,
) -> dict:
    command = [python, __file__, "--worker", name, "--units", str(n_units),
               "--years", str(n_years), "--agencies", str(n_agencies),
               "--repeat", str(repeat)]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    # Cap the worker's address space at what is free now, so a library that needs more
    # fails with MemoryError instead of pushing the shared machine into the OOM killer.
    limit = int(MEMORY_HEADROOM * _available_gb() * 1024**3)

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=env,
                              preexec_fn=cap_memory, timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:g} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit code {proc.returncode}: " + " | ".join(tail)}
    return json.loads(lines[-1])


def _fits(name: str, rows: int) -> tuple[bool, str]:
    need = BYTES_PER_ROW[name] * rows / 1024**3
    free = _available_gb()
    if need > MEMORY_HEADROOM * free:
        return False, (
            f"skipped: expected peak {need:.1f} GB, only {free:.1f} GB available now "
            "(machine shared with other jobs)"
        )
    return True, ""


def _max_diff(a: dict, b: dict) -> float:
    keys = sorted(set(a) & set(b))
    return max(abs(a[k] - b[k]) for k in keys) if keys else float("nan")


def run_prop99(peer_python: str, repeat: int) -> dict:
    """SDID, SC and DID against their peers on Prop 99, the peers under their own interpreter."""
    load_before = os.getloadavg()
    print(f"Prop 99: 39 states x 31 years, placebo SE with {PLACEBO['replications']} "
          f"replications (seed {PLACEBO['seed']}), best of {repeat}; {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    results = {}
    for name in PROP99_WORKERS:
        python = peer_python if name in PEER_INTERPRETER else sys.executable
        if not Path(python).exists():
            results[name] = {"skipped": f"no interpreter at {python} (see --peer-python)"}
        else:
            results[name] = _launch(name, 0, 0, 0, python=python, repeat=repeat)
        out = results[name]
        if "weights" in out:
            out["pre_mse"] = _pre_mse(out["weights"])
        if "seconds" in out:
            se = f"  se {out['se']:.10f}" if "se" in out else ""
            print(f"  {name:<22} {out['seconds']:8.4f} s   peak {out['peak_gb']:6.2f} GB   "
                  f"estimate {out['estimate']:.10f}{se}")  # fmt: skip
        else:
            print(f"  {name:<22} {out.get('skipped') or out.get('error')}")
    comparisons = {}
    for ours_name, peer, same in PROP99_PAIRS:
        ours, theirs = results.get(ours_name), results.get(peer)
        if not (_ok(ours) and _ok(theirs)):
            continue
        entry = {
            "speedup": theirs["seconds"] / ours["seconds"],
            "target_speedup": TARGETS["diff_diff"],
            "same_estimator": same,
            "estimate_abs_diff": abs(ours["estimate"] - theirs["estimate"]),
            "our_peak_gb": ours["peak_gb"],
            "their_peak_gb": theirs["peak_gb"],
        }
        if "se" in ours and "se" in theirs:
            entry["se_abs_diff"] = abs(ours["se"] - theirs["se"])
        if "pre_mse" in ours and "pre_mse" in theirs:
            entry["our_pre_mse"], entry["their_pre_mse"] = ours["pre_mse"], theirs["pre_mse"]
        comparisons[f"{ours_name} vs {peer}"] = entry
    report = {
        "data": "california_prop99.csv (39 states, 1970-2000, California from 1989)",
        "placebo": PLACEBO,
        "repeat": repeat,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": load_before,
            "load_after": os.getloadavg(),
        },  # fmt: skip
        "results": results,
        "comparisons": comparisons,
    }
    for line in _comparison_lines(comparisons):
        print(line)
    return report


def run(scale: str, csdid_units: int, only: list[str] | None) -> dict:
    n_units, n_years, n_agencies = SCALES[scale]
    rows = n_units * n_years
    sub_units = min(n_units, csdid_units)
    plan = [
        ("twfe", n_units, False),
        ("pyfixest", n_units, True),
        ("linearmodels", n_units, True),
        ("att_gt", n_units, False),
        ("csdid", sub_units, True),
    ]
    if sub_units < n_units:
        plan.append(("att_gt@csdid_scale", sub_units, False))
    did2s_units = min(n_units, DID2S_UNITS)
    plan += [("did_imputation", n_units, False), ("did2s", did2s_units, True)]
    if did2s_units < n_units:
        plan.append(("did_imputation@did2s_scale", did2s_units, False))
    if only:
        plan = [p for p in plan if p[0].split("@")[0] in only]
    print(f"scale {scale}: {n_units:,} employees x {n_years} years = {rows:,} rows, "
          f"{n_agencies:,} agencies; {os.cpu_count()} cores, "
          f"{_available_gb():.1f} GB available")  # fmt: skip
    results = {}
    for label, units, is_peer in plan:
        name = label.split("@")[0]
        if is_peer:
            ok, note = _fits(name, units * n_years)
            if not ok:
                results[label] = {"skipped": note}
                print(f"  {label:<22} {note}")
                continue
        out = _launch(name, units, n_years, n_agencies)
        out["rows"] = units * n_years
        results[label] = out
        if "error" in out:
            print(f"  {label:<22} failed: {out['error']}")
        else:
            print(
                f"  {label:<22} {out['seconds']:8.2f} s   peak {out['peak_gb']:6.2f} GB "
                f"(before estimating {out['data_gb']:.2f} GB)  rows {units * n_years:,}"
            )
    report = {
        "scale": scale,
        "employees": n_units,
        "years": n_years,
        "agencies": n_agencies,
        "rows": rows,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "results": results,
        "comparisons": _compare(results, sub_units < n_units, did2s_units < n_units),
    }
    for line in _comparison_lines(report["comparisons"]):
        print(line)
    return report


def _ok(entry: dict | None) -> bool:
    return bool(entry) and "seconds" in entry


def _compare(results: dict, subsampled: bool, did2s_subsampled: bool = False) -> dict:
    out = {}
    ours = results.get("twfe")
    for peer in ("pyfixest", "linearmodels"):
        theirs = results.get(peer)
        if _ok(ours) and _ok(theirs):
            out[f"twfe vs {peer}"] = {
                "speedup": theirs["seconds"] / ours["seconds"],
                "target_speedup": TARGETS[peer],
                "coef_abs_diff": abs(ours["coef"] - theirs["coef"]),
                "se_abs_diff": abs(ours["se"] - theirs["se"]),
                "se_ratio": theirs["se"] / ours["se"],
                "our_peak_gb": ours["peak_gb"],
                "their_peak_gb": theirs["peak_gb"],
            }
    att = results.get("att_gt@csdid_scale" if subsampled else "att_gt")
    csdid = results.get("csdid")
    if _ok(att) and _ok(csdid):
        out["att_gt vs csdid"] = {
            "rows": csdid["rows"],
            "speedup": csdid["seconds"] / att["seconds"],
            "target_speedup": TARGETS["csdid"],
            "att_gt_abs_diff": _max_diff(att["att_gt"], csdid["att_gt"]),
            "att_gt_se_abs_diff": _max_diff(att["att_gt_se"], csdid["att_gt_se"]),
            "overall_att_abs_diff": abs(att["overall_att"] - csdid["overall_att"]),
            "overall_se_abs_diff": abs(att["overall_se"] - csdid["overall_se"]),
            "our_peak_gb": att["peak_gb"],
            "their_peak_gb": csdid["peak_gb"],
        }
    bjs = results.get("did_imputation@did2s_scale" if did2s_subsampled else "did_imputation")
    did2s = results.get("did2s")
    if _ok(bjs) and _ok(did2s):
        out["did_imputation vs did2s"] = {
            "rows": did2s["rows"],
            "speedup": did2s["seconds"] / bjs["seconds"],
            "target_speedup": TARGETS["did2s"],
            # did2s's default fixed-effect tolerance (1e-6) bounds the agreement here; the
            # tests agree to 1e-10 with it tightened (tests/test_imputation.py).
            "overall_att_abs_diff": abs(bjs["overall_att"] - did2s["overall_att"]),
            "our_peak_gb": bjs["peak_gb"],
            "their_peak_gb": did2s["peak_gb"],
        }
    return out


def _comparison_lines(comparisons: dict) -> list[str]:
    lines = []
    for name, c in comparisons.items():
        verdict = "meets" if c["speedup"] >= c["target_speedup"] else "misses"
        diffs = {k: v for k, v in c.items() if k.endswith("abs_diff")}
        lines.append(
            f"  {name}: {c['speedup']:.1f}x faster ({verdict} the {c['target_speedup']:g}x "
            f"target); peak {c['our_peak_gb']:.2f} vs {c['their_peak_gb']:.2f} GB; "
            + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items())
            + ("" if c.get("same_estimator", True) else " (not the same estimator)")
        )
        if "our_pre_mse" in c:
            lines.append(f"    pre-treatment mean squared gap: ours {c['our_pre_mse']:.6f}, "
                         f"theirs {c['their_pre_mse']:.6f}")  # fmt: skip
        if "se_ratio" in c and "linearmodels" in name:
            lines.append(
                f"    (linearmodels counts the employee effects nested in agencies in its "
                f"small-sample factor: its clustered SE is {c['se_ratio']:.4f} x ours)"
            )
    return lines


def run_options(scale: str, only: list[str] | None) -> dict:
    """Time att_gt's options against moderndid and diff-diff on the same data, one run."""
    n_units, n_years, n_agencies = SCALES[scale]
    options = [o for o in OPTIONS if not only or o in only]
    has_peer_python = PEER_PYTHON.exists()
    print(f"options at scale {scale}: {n_units:,} employees x {n_years} years, "
          f"{n_agencies:,} agencies; {os.cpu_count()} cores, "
          f"{_available_gb():.1f} GB available")  # fmt: skip
    results: dict = {}
    comparisons: dict = {}
    for option in options:
        for lib in ("att_gt", *OPTION_PEERS):
            label = f"{lib}:{option}"
            if lib == "diffdiff" and not has_peer_python:
                results[label] = {"skipped": f"no diff-diff interpreter at {PEER_PYTHON}"}
                continue
            python = str(PEER_PYTHON) if lib == "diffdiff" else sys.executable
            out = _launch(label, n_units, n_years, n_agencies, python=python,
                          timeout=OPTION_TIMEOUT)  # fmt: skip
            results[label] = out
            if "error" in out:
                print(f"  {label:<22} failed: {out['error']}")
            else:
                print(f"  {label:<22} {out['seconds']:8.2f} s   peak {out['peak_gb']:6.2f} GB "
                      f"  cells {len(out['att_gt'])}")  # fmt: skip
        ours = results[f"att_gt:{option}"]
        for peer in OPTION_PEERS:
            theirs = results.get(f"{peer}:{option}")
            if _ok(ours) and _ok(theirs):
                comparisons[f"att_gt {option} vs {peer}"] = {
                    "speedup": theirs["seconds"] / ours["seconds"],
                    "target_speedup": 1.0,
                    "att_gt_abs_diff": _max_diff(ours["att_gt"], theirs["att_gt"]),
                    "att_gt_se_abs_diff": _max_diff(ours["att_gt_se"], theirs["att_gt_se"]),
                    "overall_att_abs_diff": abs(ours["overall_att"] - theirs["overall_att"]),
                    "cells_compared": len(set(ours["att_gt"]) & set(theirs["att_gt"])),
                    "our_peak_gb": ours["peak_gb"],
                    "their_peak_gb": theirs["peak_gb"],
                }
    report = {
        "scale": scale,
        "employees": n_units,
        "years": n_years,
        "agencies": n_agencies,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "results": results,
        "comparisons": comparisons,
    }
    for line in _comparison_lines(comparisons):
        print(line)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=[*sorted(SCALES), "prop99"], default="city")
    parser.add_argument("--peer-python", default=PEER_PYTHON,
                        help="interpreter with diff-diff for --scale prop99")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="prop99: best of this many")
    parser.add_argument("--csdid-units", type=int, default=CSDID_UNITS)
    parser.add_argument("--only", nargs="*", help="run only these (twfe, pyfixest, ...)")
    parser.add_argument("--options", action="store_true",
                        help="time att_gt's options against moderndid and diff-diff")  # fmt: skip
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--units", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--years", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--agencies", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.units, args.years, args.agencies, args.repeat)
        return
    if args.scale == "prop99":
        report = run_prop99(args.peer_python, args.repeat)
        path = RESULTS / "prop99.json"
    elif args.options:
        report = run_options(args.scale, args.only)
        path = RESULTS / f"options-{args.scale}.json"
    else:
        report = run(args.scale, args.csdid_units, args.only)
        path = RESULTS / f"{args.scale}.json"
    RESULTS.mkdir(exist_ok=True)
    if args.only and path.exists():
        # A partial run updates its own entries and keeps the others' last measurements.
        earlier = json.loads(path.read_text())
        report["results"] = {**earlier.get("results", {}), **report["results"]}
        report["comparisons"] = {**earlier.get("comparisons", {}), **report["comparisons"]}
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"written {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
