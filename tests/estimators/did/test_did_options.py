"""att_gt's panel=False, allow_unbalanced, weights and est_method (issue 22).

Against moderndid, the Python port of R's did, on mpdta and on datasets derived from it
(``references/make_references.py`` builds them and wrote ``references/references.json``);
identities that tie the new options to the estimator validated in test_did_mpdta.py; the
recovery of a known effect from simulated repeated cross-sections and unbalanced panels;
and the message of every bad input.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asn_eval.estimators.did import att_gt

HERE = Path(__file__).resolve().parent / "references"
REFERENCES = json.loads((HERE / "references.json").read_text())
_spec = importlib.util.spec_from_file_location("did_references", HERE / "make_references.py")
references = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(references)
COLUMNS = references.COLUMNS
# moderndid agrees to rounding error (largest difference 2.9e-12, case rcs_ipw_x); the
# tolerance leaves room for a different BLAS, not for a different estimator
TOLERANCE = 1e-10


@pytest.fixture(scope="module")
def data(mpdta):
    return references.datasets(mpdta)


@pytest.fixture(scope="module")
def ours(data):
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, case in REFERENCES["cases"].items():
            out[name] = att_gt(data[case["data"]], **COLUMNS, **case["options"])
    return out


@pytest.mark.parametrize("name", list(REFERENCES["cases"]))
def test_every_att_gt_and_se_matches_moderndid(ours, name):
    case = REFERENCES["cases"][name]
    ref = pd.DataFrame({k: case[k] for k in ("cohort", "time", "att", "se")})
    ref = ref[np.isfinite(ref["att"])].set_index(["cohort", "time"])  # empty cells: NaN there
    res = ours[name]
    assert list(res.params.index) == list(ref.index)
    assert np.abs(res.params.to_numpy() - ref["att"].to_numpy()).max() <= TOLERANCE
    se, ref_se = res.std_errors.to_numpy(), ref["se"].to_numpy()
    assert (np.isnan(se) == np.isnan(ref_se)).all()  # reference cells of a universal base
    assert np.nanmax(np.abs(se - ref_se)) <= TOLERANCE


@pytest.mark.parametrize("kind", references.KINDS)
@pytest.mark.parametrize("name", list(REFERENCES["cases"]))
def test_aggregations_match_moderndid(ours, name, kind):
    agg = ours[name].aggregate(kind)
    ref = REFERENCES["cases"][name][kind]
    assert abs(agg.overall_att - ref["att"]) <= TOLERANCE
    assert abs(agg.overall_se - ref["se"]) <= TOLERANCE
