"""A rejected ``policies`` row leaves its agency out of the policy analyses; it never turns
the agency into a comparison unit that "never adopted"."""

import shutil
import warnings

import pandas as pd
import pytest

from asn_eval.analysis.panels import (
    NEVER_TREATED,
    UNKNOWN_COHORT,
    adoption_cohorts,
    agency_year_panel,
    known_adoption,
    monthly_service_series,
    treatment_map,
)
from asn_eval.config import PROJECT_ROOT
from asn_eval.data import load_dataset
from asn_eval.estimators.did import att_gt

ROOT = PROJECT_ROOT
DEFAULT = ROOT / "data" / "kupang-synthetic"
KEY = "test-key"
POLICY = "performance_appraisal"
BROKEN = "5371002"  # line 3 of policies.csv: never adopted performance appraisal


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    target = tmp_path_factory.mktemp("gaps") / "data"
    shutil.copytree(DEFAULT, target)
    path = target / "policies.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[2] == f"{BROKEN};13 Februari 2023;;4 Maret 2022;18 Januari 2021"
    lines[2] = f"{BROKEN};31 Februari 2023;;4 Maret 2022;18 Januari 2021"  # no such date
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    raw = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig")
    # Never-adopters counted from the file itself, leaving out the broken row.
    never = int(raw.loc[raw["agency_code"] != BROKEN, POLICY].isna().sum())
    return load_dataset(target, key=KEY), never


def test_dataset_records_which_agencies_are_left_out_and_why(broken):
    dataset, _ = broken
    assert dataset.policy_gaps.values.tolist() == [
        [
            BROKEN, "policies.csv", 3, "invalid_date",
            "its row in policies.csv (line 3) was rejected (invalid_date), so its adoption "
            "dates are unknown",
        ]
    ]  # fmt: skip
    assert [str(note) for note in dataset.notes] == [
        "1 agency is left out of every policy analysis because the adoption dates are unknown "
        "(1 with a rejected row in policies.csv, 0 without a row there); they are not counted "
        "as agencies that never adopted. Correct those rows to bring them back."
    ]


def test_unknown_agency_is_not_a_never_adopter_in_the_panels(broken):
    dataset, never = broken
    cohorts = adoption_cohorts(dataset).set_index("agency_code")
    assert (cohorts.loc[BROKEN] == UNKNOWN_COHORT).all()
    assert (cohorts[POLICY] == NEVER_TREATED).sum() == never
    panel = agency_year_panel(dataset)
    rows = panel[panel["agency_code"] == BROKEN]
    assert (rows[f"cohort_{POLICY}"] == UNKNOWN_COHORT).all()
    assert rows[f"treated_{POLICY}"].isna().all()  # neither treated nor untreated
    assert BROKEN not in set(known_adoption(panel, POLICY)["agency_code"])
    assert BROKEN not in treatment_map(dataset, POLICY).index
    services = monthly_service_series(dataset)
    assert services.loc[services["agency_code"] == BROKEN, f"post_{POLICY}"].isna().all()


@pytest.mark.parametrize("filtered", [True, False])
def test_estimator_never_counts_the_unknown_agency_as_never_treated(broken, filtered):
    dataset, never = broken
    panel = agency_year_panel(dataset)
    data = known_adoption(panel, POLICY) if filtered else panel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = att_gt(
            data, outcome="n_employees", unit="agency_code", time="year", cohort=f"cohort_{POLICY}"
        )
    assert result.info["cohort_sizes"]["never"] == never
