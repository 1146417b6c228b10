"""A researcher changes an analysis option in the parameters cell and reruns the notebook.

Issue 10's acceptance test: ``03_impact.ipynb`` run by papermill with ``control_group`` set to
``"notyet"`` gives a different overall effect, and that effect is exactly what the estimator
gives when called directly with that option, so the parameter reached the analysis.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from asn_eval.analysis import AnalysisSpec, parse_params
from asn_eval.analysis.impact import policy_outcome_data
from asn_eval.analysis.panels import agency_year_panel
from asn_eval.estimators import att_gt
from asn_eval.config import DEFAULT_DATA_DIR, NOTEBOOKS_DIR
from asn_eval.report.kernels import running_kernel_spec
from asn_eval.report.chapters import load_data


def _overall(data, control_group):
    gt = att_gt(
        data,
        outcome="skp_good_share",
        unit="agency_code",
        time="year",
        cohort="cohort_training_programme",
        control_group=control_group,
    )
    return float(gt.aggregate("simple").overall_att)


def _run_impact_notebook(tmp_path, **options) -> object:
    """Execute 03_impact.ipynb with ``options`` in its parameters (few draws); returns the
    output folder. The executed notebook is ``tmp_path / "03_impact.ipynb"``."""
    import papermill

    out = tmp_path / "out"
    with running_kernel_spec() as kernel:
        papermill.execute_notebook(
            str(NOTEBOOKS_DIR / "03_impact.ipynb"),
            str(tmp_path / "03_impact.ipynb"),
            parameters={
                "data_dir": str(DEFAULT_DATA_DIR),
                "year": 2025,
                "lang": "en",
                "output_dir": str(out),
                "n_boot": 49,
                "n_perm": 9,
                **options,
            },
            kernel_name=kernel,
            cwd=str(NOTEBOOKS_DIR),
            progress_bar=False,
        )
    return out


def test_changing_the_control_group_in_the_parameters_changes_the_estimate(tmp_path):
    out = _run_impact_notebook(tmp_path, control_group="notyet")
    records = json.loads((out / "results.json").read_text(encoding="utf-8"))["records"]
    got = next(
        r["estimate"]
        for r in records
        if (r["policy"], r["outcome"], r["estimator"])
        == ("training_programme", "skp_good_share", "Callaway-Sant'Anna")
    )
    dataset = load_data(DEFAULT_DATA_DIR)
    panel = agency_year_panel(dataset, years=AnalysisSpec(year=2025).years(dataset))
    data = policy_outcome_data(panel, "training_programme", "skp_good_share")
    never, notyet = _overall(data, "never"), _overall(data, "notyet")
    assert abs(never - notyet) > 1e-3  # the option matters on these data
    assert got == pytest.approx(notyet, rel=1e-5)  # results.json keeps 6 significant digits
    # The executed notebook shows the option it ran with, in its displayed spec.
    nb = nbformat.read(str(tmp_path / "03_impact.ipynb"), as_version=4)
    shown = "".join(
        "".join(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "control_group='notyet'" in shown and "n_boot=49" in shown


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["controls=notyet"], "--param controls: unknown analysis option; the options are"),
        (["n_boot=many"], "--param n_boot=many: n_boot takes a whole number."),
        (["level=95"], "level must lie between 0 and 1 (e.g. 0.95), not 95.0"),
        (["control_group=later"], "control_group must be one of never, notyet, not 'later'"),
        (["n_boot"], "--param expects NAME=VALUE, got 'n_boot'."),
    ],
)
def test_a_wrong_param_is_named_in_one_line(items, message):
    with pytest.raises(ValueError) as caught:
        parse_params(items)
    assert message in str(caught.value)


def test_params_are_typed_as_the_spec_declares():
    assert parse_params(["n_perm=99", "level=0.9", "base_period=varying"]) == {
        "n_perm": 99,
        "level": 0.9,
        "base_period": "varying",
    }


def test_the_worked_example_makes_the_chapters_calls_for_any_anticipation(tmp_path):
    """Notebook 03's step-by-step event study and overall effect equal what ``impact()``
    computed (its cell asserts so) also when ``anticipation`` is not 0: the worked example
    passes every option the chapter passes (anticipation, the bootstrap weights)."""
    _run_impact_notebook(tmp_path, anticipation=1)
    nb = nbformat.read(str(tmp_path / "03_impact.ipynb"), as_version=4)
    checks = [c for c in nb.cells if c.cell_type == "code" and "chapter_estimate" in c.source]
    assert len(checks) == 1 and checks[0].execution_count is not None
    assert "assert es.params.equals(chapter_estimate.event.params)" in checks[0].source
    shown = "".join(
        "".join(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "anticipation=1" in shown
