"""Write references.json: published Prop 99 numbers and the peers' numbers on the same data.

Run it in a separate environment holding the peers, not the project's (they pin other
versions of numpy and pandas)::

    python3 -m venv /tmp/peer-venv
    /tmp/peer-venv/bin/pip install diff-diff==3.13.0 synthdid==0.10.1 numpy==1.23.5 pandas==1.5.3
    /tmp/peer-venv/bin/python tests/estimators/references/synthetic/make_references.py

(the versions references.json records; Python 3.11). Peers:

- diff-diff's ``SyntheticDiD`` (placebo variance, 200 replications, seed 0): synthdid's
  Algorithm 1 and 4 in Python; its placebo permutations are numpy ``default_rng(seed)``
  ``permutation`` draws, as ours, so its placebo standard error is comparable digit for digit.
- synthdid (PyPI, d2cml-ai's Python port of the R package): SDID and DID (``did=True``)
  point estimates, rounded by the port to 5 decimals; its ``synth=True`` is another
  estimator than ``sc_estimate`` and is recorded only. Its placebo standard error draws
  pseudo-treated units with replacement from numpy's global generator, 50 times whatever
  is asked, so it is not Algorithm 4 and is not recorded.

The published numbers are typed in below with their sources; the data file
``california_prop99.csv`` is synthdid's ``data/california_prop99.csv`` (see README.md here).
"""

from __future__ import annotations

import json
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "california_prop99.csv"
PLACEBO = {"replications": 200, "seed": 0}

PUBLISHED = {
    "arkhangelsky_2021_table1": {
        "source": "Arkhangelsky, Athey, Hirshberg, Imbens and Wager (2021), Synthetic "
        "difference-in-differences, AER 111(12), Table 1 (California Proposition 99); "
        "made by synthdid's vignettes/paper-results.Rmd: set.seed(12345) then "
        "sqrt(vcov(estimate, method='placebo')) with 200 replications for each estimator",
        "digits": 1,
        "estimate": {"sdid": -15.6, "sc": -19.6, "did": -27.3},
        "std_error": {"sdid": 8.4, "sc": 9.9, "did": 17.7},
    },
    "synthdid_vignette": {
        "source": "synthdid 0.0.9 vignette 'synthdid introduction' (vignettes/synthdid.Rmd), "
        "rendered output: print(tau.hat), summary(tau.hat) and the placebo interval after "
        "set.seed(12345); the repository holds the Rmd only, the printed output was read "
        "from a public copy of the rendered vignette",
        "estimate_sdid": -15.60383,
        "estimate_sdid_digits": 5,
        "ci95_placebo_sdid": [-32.01, 0.80],
        "omega_top": {
            "Nevada": 0.124,
            "New Hampshire": 0.105,
            "Connecticut": 0.078,
            "Delaware": 0.070,
            "Colorado": 0.058,
            "Illinois": 0.053,
            "Nebraska": 0.048,
            "Montana": 0.045,
            "Utah": 0.042,
            "New Mexico": 0.041,
            "Minnesota": 0.039,
            "Wisconsin": 0.037,
            "West Virginia": 0.034,
            "North Carolina": 0.033,
            "Idaho": 0.031,
            "Ohio": 0.031,
            "Maine": 0.028,
            "Iowa": 0.026,
        },
        "lambda_top": {"1988": 0.427, "1986": 0.366, "1987": 0.206},
        "weights_digits": 3,
        "n0_effective": 16.388,
        "t0_effective": 2.783,
        "effective_digits": 3,
    },
    "stata_sdid_and_ports": {
        "source": "the same estimates printed to five decimals by Stata's sdid (Clarke, "
        "Pailanir, Athey and Imbens 2024) and the Python ports' tests: "
        "-15.60383 (sdid), -19.61966 (sc), -27.34911 (did)",
        "digits": 5,
        "estimate": {"sdid": -15.60383, "sc": -19.61966, "did": -27.34911},
    },
}


def _diff_diff(panel: pd.DataFrame) -> dict:
    from diff_diff import SyntheticDiD

    panel = panel.assign(ever=panel.groupby("State")["treated"].transform("max"))
    model = SyntheticDiD(
        variance_method="placebo", n_bootstrap=PLACEBO["replications"], seed=PLACEBO["seed"]
    )
    fit = model.fit(
        panel,
        outcome="PacksPerCapita",
        treatment="ever",
        unit="State",
        time="Year",
        post_periods=sorted(panel.loc[panel["treated"] == 1, "Year"].unique().tolist()),
    )
    omega = fit.unit_weights
    lam = fit.time_weights
    return {
        "version": version("diff-diff"),
        "call": "SyntheticDiD(variance_method='placebo', n_bootstrap=200, seed=0).fit(...)",
        "estimate_sdid": float(fit.att),
        "se_placebo_sdid": float(fit.se),
        "zeta_omega": float(fit.zeta_omega),
        "zeta_lambda": float(fit.zeta_lambda),
        "noise_level": float(fit.noise_level),
        "omega": {str(k): float(v) for k, v in dict(omega).items()},
        "lambda": {str(k): float(v) for k, v in dict(lam).items()},
    }


def _synthdid_port(panel: pd.DataFrame) -> dict:
    from synthdid.synthdid import Synthdid

    out = {"version": version("synthdid")}
    for kind, options in (("sdid", {}), ("sc", {"synth": True}), ("did", {"did": True})):
        model = Synthdid(panel, "State", "Year", "treated", "PacksPerCapita").fit(**options)
        out[f"estimate_{kind}"] = float(np.ravel(model.att)[0])
    out["note"] = (
        "the port rounds its estimates to 5 decimals; its synth=True is not synthdid's "
        "sc_estimate (it keeps the unit intercept and regularises omega), so estimate_sc is "
        "recorded but not compared"
    )
    return out


def main() -> None:
    panel = pd.read_csv(DATA, sep=";")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        references = {
            "data": DATA.name,
            "placebo": PLACEBO,
            "published": PUBLISHED,
            "peers": {"diff_diff": _diff_diff(panel), "synthdid_py": _synthdid_port(panel)},
            "peer_environment": {"numpy": version("numpy"), "pandas": version("pandas")},
        }
    (HERE / "references.json").write_text(json.dumps(references, indent=2) + "\n")


if __name__ == "__main__":
    main()
