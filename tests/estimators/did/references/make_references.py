"""Reference numbers for att_gt's panel=False, allow_unbalanced, weights and est_method.

Run from the repository root (it takes a few seconds)::

    .venv/bin/python tests/estimators/did/references/make_references.py

It runs moderndid (the Python port of R's did; version recorded in the output) on mpdta and
on three datasets derived from it that nobody tuned to (built by :func:`datasets`, which the
tests import): a weights column, two repeated cross-sections (half of the rows; one year per
county) and an unbalanced panel (5% of the rows removed). It writes ``references.json``
beside this file: every ATT(g, t) with its standard error and the four aggregations.

Two defects of moderndid 0.2.0 are worked around, so that the aggregations are R's did's:
its ``MPResult`` drops the sampling weights (``weights_ind`` is None, so ``aggte`` weights
cohorts by unweighted shares, whereas R's ``compute.aggte`` uses ``weights.ind <- dta$.w``)
and, for unbalanced panels, lists the units' cohorts (``G``) in an order other than the rows
of its influence function (R did fixed the same bug: compute.aggte.R, "Restore that order
so the estimated-weight influence term (wif) is added to the matching units"). Both are
rebuilt here from the data, in the influence function's row order, before ``aggte``; the
ATT(g, t) and their standard errors are moderndid's as it returns them.
"""

from __future__ import annotations

import importlib
import importlib.resources
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
COLUMNS = dict(outcome="lemp", unit="countyreal", time="year", cohort="first.treat")
KINDS = ("simple", "group", "dynamic", "calendar")


def load_mpdta() -> pd.DataFrame:
    path = importlib.resources.files("moderndid.core.datasets") / "mpdta_long.pkl.gz"
    return pd.read_pickle(path)


def datasets(mpdta: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """mpdta and the derived datasets, built the same way here and in the tests."""
    base = mpdta.sort_values(["countyreal", "year"]).reset_index(drop=True)
    rng = np.random.default_rng(20_201)
    counties = base["countyreal"].unique()
    weight = dict(zip(counties, rng.uniform(0.5, 2.0, counties.size), strict=True))
    base["w"] = base["countyreal"].map(weight)
    half = base.iloc[np.sort(rng.choice(len(base), len(base) // 2, replace=False))].copy()
    year = dict(zip(counties, rng.choice(base["year"].unique(), counties.size), strict=True))
    one_year = base[base["year"] == base["countyreal"].map(year)].copy()
    holey = base.drop(index=rng.choice(len(base), len(base) // 20, replace=False))
    out = {"mpdta": base, "rcs_half": half, "rcs_one_year": one_year, "unbalanced": holey}
    for frame in out.values():
        frame.reset_index(drop=True, inplace=True)
        frame["rowid"] = np.arange(len(frame))  # moderndid's id for repeated cross-sections
    return out


# name: (dataset, att_gt options); moderndid's options follow from them (see _theirs)
CASES = {
    "rcs_dr": ("rcs_half", dict(panel=False)),
    "rcs_ipw": ("rcs_half", dict(panel=False, est_method="ipw")),
    "rcs_reg": ("rcs_half", dict(panel=False, est_method="reg")),
    "rcs_dr_x": ("rcs_half", dict(panel=False, covariates=["lpop"])),
    "rcs_ipw_x": ("rcs_half", dict(panel=False, covariates=["lpop"], est_method="ipw")),
    "rcs_reg_x": ("rcs_half", dict(panel=False, covariates=["lpop"], est_method="reg")),
    "rcs_dr_x_w": ("rcs_half", dict(panel=False, covariates=["lpop"], weights="w")),
    "rcs_notyet_universal": (
        "rcs_half",
        dict(panel=False, control_group="notyet", base_period="universal"),
    ),
    "rcs_one_year": ("rcs_one_year", dict(panel=False)),
    "rcs_one_year_w": ("rcs_one_year", dict(panel=False, weights="w")),
    "panel_w": ("mpdta", dict(weights="w")),
    "panel_dr_x_w": ("mpdta", dict(covariates=["lpop"], weights="w")),
    "panel_ipw_x": ("mpdta", dict(covariates=["lpop"], est_method="ipw")),
    "panel_reg_x": ("mpdta", dict(covariates=["lpop"], est_method="reg")),
    "panel_ipw_x_w": ("mpdta", dict(covariates=["lpop"], est_method="ipw", weights="w")),
    "panel_reg_x_w": ("mpdta", dict(covariates=["lpop"], est_method="reg", weights="w")),
    "unbalanced": ("unbalanced", dict(allow_unbalanced=True)),
    "unbalanced_dr_x": ("unbalanced", dict(allow_unbalanced=True, covariates=["lpop"])),
    "unbalanced_ipw_x": (
        "unbalanced",
        dict(allow_unbalanced=True, covariates=["lpop"], est_method="ipw"),
    ),
    "unbalanced_reg_x": (
        "unbalanced",
        dict(allow_unbalanced=True, covariates=["lpop"], est_method="reg"),
    ),
    "unbalanced_w_notyet": (
        "unbalanced",
        dict(allow_unbalanced=True, weights="w", control_group="notyet"),
    ),
}


def _theirs(options: dict) -> dict:
    out = dict(yname="lemp", tname="year", gname="first.treat", idname="countyreal")
    if not options.get("panel", True):
        out.update(panel=False, idname="rowid")
    if options.get("allow_unbalanced"):
        # moderndid 0.2.0 fails with panel=True here (outcomes_tensor is None); with
        # panel=False and allow_unbalanced_panel=True it runs R did's unbalanced path
        out.update(panel=False, allow_unbalanced_panel=True)
    if options.get("covariates"):
        out["xformla"] = "~" + "+".join(options["covariates"])
    if options.get("weights"):
        out["weightsname"] = options["weights"]
    if options.get("est_method"):
        out["est_method"] = options["est_method"]
    if options.get("control_group") == "notyet":
        out["control_group"] = "notyettreated"
    if options.get("base_period"):
        out["base_period"] = options["base_period"]
    return out


def _fixed(result, data: pd.DataFrame, options: dict, units_seen):
    """moderndid's result with R did's unit cohorts and weights for ``aggte`` (see above).

    Its influence-function rows follow its ``time_invariant_data`` (``units_seen``) in
    panels and repeated cross-sections, and the units' first appearance in unbalanced panels.
    """
    if options.get("allow_unbalanced"):
        units = data.drop_duplicates("countyreal")
        cohorts = units["first.treat"].to_numpy(dtype=float)
        cohorts[cohorts == 0] = np.inf
        weights = units["w"].to_numpy()
    else:
        cohorts = np.asarray(result.G, dtype=float)
        weights = np.asarray(units_seen["weights"], dtype=float)
    assert cohorts.size == result.influence_func.shape[0]
    return result._replace(G=cohorts, weights_ind=weights if options.get("weights") else None)


def _spy_on_moderndid(seen: dict) -> None:
    """Keep the preprocessed data of moderndid's last ``att_gt`` call in ``seen``."""
    module = importlib.import_module("moderndid.did.att_gt")
    compute = module.compute_att_gt

    def spy(dp, **kwargs):
        seen["units"] = dp.time_invariant_data
        return compute(dp, **kwargs)

    module.compute_att_gt = spy


def main() -> None:
    import moderndid

    warnings.simplefilter("ignore")
    data = datasets(load_mpdta())
    seen: dict = {}
    _spy_on_moderndid(seen)
    out = {
        "source": f"moderndid {moderndid.__version__} (Python port of R's did), "
        "tests/estimators/did/references/make_references.py",
        "cases": {},
    }
    for name, (which, options) in CASES.items():
        frame = data[which]
        res = moderndid.att_gt(frame, **_theirs(options))
        fixed = _fixed(res, frame, options, seen["units"])
        case = {
            "data": which,
            "options": options,
            "cohort": np.asarray(res.groups).astype(int).tolist(),
            "time": np.asarray(res.times).astype(int).tolist(),
            "att": np.asarray(res.att_gt, dtype=float).tolist(),
            "se": np.asarray(res.se_gt, dtype=float).tolist(),
        }
        for kind in KINDS:
            agg = moderndid.aggte(fixed, type=kind)
            case[kind] = {"att": float(agg.overall_att), "se": float(agg.overall_se)}
        out["cases"][name] = case
    text = json.dumps(out, indent=1, allow_nan=True)
    (HERE / "references.json").write_text(text + "\n")
    print(f"wrote {len(CASES)} cases to {HERE / 'references.json'}")


if __name__ == "__main__":
    main()
