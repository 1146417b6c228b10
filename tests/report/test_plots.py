"""asn_eval.report.plots: each figure draws the result's own numbers, readably, in the report's
locale."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection, PolyCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from scipy import stats  # noqa: E402

from asn_eval.data.synth import simulate_panel  # noqa: E402
from asn_eval.estimators.bacon import bacon_decomposition  # noqa: E402
from asn_eval.estimators.did import event_study  # noqa: E402
from asn_eval.estimators.dose import dose_response  # noqa: E402
from asn_eval.estimators.its import interrupted_time_series  # noqa: E402
from asn_eval.report import plots  # noqa: E402
from asn_eval.report.figures import (  # noqa: E402
    BAND_ALPHA,
    COMPARISON_COLOUR,
    MIN_FONT_PT,
    TREATED_COLOUR,
    figure_size,
    smallest_font_pt,
    use_style,
)

COLUMNS = dict(outcome="y", unit="agency", time="year", cohort="cohort")


@pytest.fixture(autouse=True)
def _style_and_cleanup():
    use_style()
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def agency_panel() -> pd.DataFrame:
    panel = simulate_panel(n_employees=400, n_agencies=24, seed=3)
    return panel.groupby(["agency", "year"], as_index=False).agg(
        y=("y", "mean"), cohort=("cohort", "first"), treated=("treated", "first")
    )


@pytest.fixture(scope="module")
def cs_event(agency_panel):
    # multiplier bootstrap draws give the sup-t critical value of the uniform band
    return event_study(agency_panel, **COLUMNS, n_boot=199, seed=1)


@pytest.fixture(scope="module")
def twfe_event(agency_panel):
    # a copy of the unit column: event_study(method="twfe") cannot cluster on the unit column
    # itself (it selects the column twice)
    panel = agency_panel.assign(cluster=agency_panel["agency"])
    return event_study(panel, **COLUMNS, method="twfe", cluster="cluster")


@pytest.fixture(scope="module")
def bacon_result(agency_panel):
    return bacon_decomposition(
        agency_panel, outcome="y", treatment="treated", unit="agency", time="year"
    )


@pytest.fixture(scope="module")
def its_result():
    months = pd.date_range("2019-01-01", periods=60, freq="MS")
    rng = np.random.default_rng(0)
    share = 0.6 + 0.002 * np.arange(60) + 0.1 * (months >= "2022-01-01")
    frame = pd.DataFrame({"month": months, "share": share + rng.normal(0, 0.03, 60)})
    return interrupted_time_series(frame, outcome="share", time="month", intervention="2022-01")


@pytest.fixture(scope="module")
def dose_result():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.repeat(np.arange(300), 4), "year": np.tile(range(4), 300)})
    frame["jp"] = rng.choice([0, 5, 15, 30, 60, 100], size=len(frame))
    frame["good"] = (rng.random(len(frame)) < 0.5 + 0.002 * frame["jp"]).astype(float)
    return dose_response(frame, outcome="good", hours="jp", unit="id", time="year")


def _line(ax, gid):
    found = [line for line in ax.get_lines() if line.get_gid() == gid]
    assert len(found) == 1, (gid, [line.get_gid() for line in ax.get_lines()])
    return found[0]


def _legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def _tick_texts(ax, axis="y"):
    ax.figure.canvas.draw()
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in ticks if t.get_text()]


def _legend_below_axes(ax) -> bool:
    renderer = ax.figure.canvas.get_renderer()
    ax.figure.canvas.draw()
    return ax.get_legend().get_window_extent(renderer).y1 <= ax.bbox.y0


# --- event study ------------------------------------------------------------------------
def test_event_study_draws_estimates_pointwise_intervals_and_uniform_band(cs_event):
    ax = plots.event_study(cs_event)
    assert isinstance(ax, plt.Axes)
    params, se = cs_event.params, cs_event.std_errors
    estimated = se.notna()
    pre = _line(ax, "estimates_pre")
    post = _line(ax, "estimates_post")
    x = np.r_[pre.get_xdata(), post.get_xdata()]
    y = np.r_[pre.get_ydata(), post.get_ydata()]
    np.testing.assert_array_equal(x, params.index[estimated].to_numpy())
    np.testing.assert_allclose(y, params[estimated].to_numpy())
    assert (pre.get_xdata() < 0).all() and (post.get_xdata() >= 0).all()
    # the reference period (-1, universal base period) is marked at zero
    reference = _line(ax, "reference")
    assert list(reference.get_xdata()) == [-1] and list(reference.get_ydata()) == [0.0]

    # pointwise bars: estimate +/- the normal quantile (bootstrap SEs, no t correction)
    z = stats.norm.ppf(0.975)
    bars = [c for c in ax.collections if c.get_gid() is None and c.get_segments()]
    segments = np.concatenate([np.asarray(c.get_segments()) for c in bars])
    lows, highs = segments[:, :, 1].min(axis=1), segments[:, :, 1].max(axis=1)
    np.testing.assert_allclose(
        np.sort(lows), np.sort((params - z * se)[estimated].to_numpy()), rtol=1e-12
    )
    np.testing.assert_allclose(
        np.sort(highs), np.sort((params + z * se)[estimated].to_numpy()), rtol=1e-12
    )

    # uniform band: one box per event time, from the sup-t critical value, visibly shaded
    (band,) = [c for c in ax.collections if c.get_gid() == "uniform_band"]
    assert isinstance(band, PolyCollection)
    assert band.get_alpha() >= 0.2
    crit = cs_event.critical_value
    assert crit > z  # a band over the whole curve is wider than one interval
    boxes = [path.vertices for path in band.get_paths()]
    centres = [(box[:, 0].min() + box[:, 0].max()) / 2 for box in boxes]
    np.testing.assert_allclose(centres, params.index[estimated].to_numpy())
    np.testing.assert_allclose(
        [box[:, 1].min() for box in boxes], (params - crit * se)[estimated].to_numpy()
    )
    np.testing.assert_allclose(
        [box[:, 1].max() for box in boxes], (params + crit * se)[estimated].to_numpy()
    )
    assert _legend_texts(ax) == [
        "Before adoption",
        "After adoption",
        "Reference period (0)",
        "95% confidence interval",
        "95% simultaneous band",
    ]
    assert _legend_below_axes(ax)


def _legend_swatches(legend) -> set[str]:
    """Face colours of the band swatches a legend draws (patches at the band's alpha)."""
    return {
        to_hex(patch.get_facecolor(), keep_alpha=False)
        for patch in legend.findobj(Rectangle)
        if patch.get_alpha() == BAND_ALPHA
    }


def test_band_legend_shows_the_band_in_the_colours_it_is_drawn_in(cs_event, twfe_event):
    ax = plots.event_study(cs_event, lang="id")
    (band,) = [c for c in ax.collections if c.get_gid() == "uniform_band"]
    drawn = {to_hex(colour, keep_alpha=False) for colour in band.get_facecolors()}
    # before and after adoption: two colours, neither of them the grey of the zero line
    assert drawn == {COMPARISON_COLOUR.lower(), TREATED_COLOUR.lower()}
    ax.figure.canvas.draw()
    assert _legend_swatches(ax.get_legend()) == drawn
    # and so does the one legend shared by panels
    fig, axes = plt.subplots(1, 2, figsize=figure_size("full"), layout="constrained")
    plots.event_study(cs_event, ax=axes[0], lang="id")
    plots.event_study(twfe_event, ax=axes[1], lang="id")
    legend = plots.shared_legend(fig)
    fig.canvas.draw()
    assert _legend_swatches(legend) == drawn


def test_twfe_event_study_has_pointwise_intervals_and_no_band(twfe_event):
    ax = plots.event_study(twfe_event, percent=True)
    frame = twfe_event.to_frame().set_index("event_time")
    estimated = frame["std_error"].notna()
    post = _line(ax, "estimates_post")
    np.testing.assert_allclose(
        post.get_ydata(), 100 * frame.loc[estimated & (frame.index >= 0), "estimate"]
    )
    assert not [c for c in ax.collections if c.get_gid() == "uniform_band"]
    assert "95% simultaneous band" not in _legend_texts(ax)
    assert ax.get_ylabel() == "Effect (percentage points)"
    # clustered TWFE intervals use t(G - 1), as the result's own table does
    bars = [c for c in ax.collections if c.get_segments()]
    highs = np.concatenate([np.asarray(c.get_segments())[:, :, 1].max(axis=1) for c in bars])
    np.testing.assert_allclose(np.sort(highs), np.sort(100 * frame.loc[estimated, "ci_high"]))


def test_event_study_words_in_indonesian_and_replaced_by_the_caller(cs_event):
    ax = plots.event_study(cs_event, lang="id", labels={"event_time": "Tahun sejak penerapan"})
    assert ax.get_xlabel() == "Tahun sejak penerapan"
    assert "Pita kepercayaan simultan 95%" in _legend_texts(ax)
    with pytest.raises(ValueError) as err:
        plots.event_study(cs_event, labels={"band": "x"})
    assert str(err.value).startswith("Unknown label key(s) ['band']; the keys are:")


def test_panels_share_one_legend_below_the_figure(cs_event, twfe_event):
    fig, axes = plt.subplots(1, 2, figsize=figure_size("full"), layout="constrained")
    plots.event_study(cs_event, ax=axes[0], lang="id")
    plots.event_study(twfe_event, ax=axes[1], lang="id")
    legend = plots.shared_legend(fig)
    assert all(ax.get_legend() is None for ax in axes)
    assert [t.get_text() for t in legend.get_texts()][-1] == "Pita kepercayaan simultan 95%"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).y1 <= min(ax.bbox.y0 for ax in axes)
    assert smallest_font_pt(fig) >= MIN_FONT_PT


def test_event_study_rejects_a_result_without_estimates():
    with pytest.raises(TypeError) as err:
        plots.event_study(pd.Series([1.0, 2.0]))
    assert "event_study plots an event-study result" in str(err.value)


# --- Goodman-Bacon ------------------------------------------------------------------------
def test_bacon_plot_draws_every_comparison_at_its_weight_and_the_twfe_line(bacon_result):
    ax = bacon_result.plot()
    assert isinstance(ax, plt.Axes)
    frame = bacon_result.to_frame()
    scatters = {c.get_gid(): c for c in ax.collections if isinstance(c, PathCollection)}
    assert set(scatters) == {f"bacon:{kind}" for kind in frame["type"].unique()}
    for kind, part in frame.groupby("type"):
        np.testing.assert_allclose(
            scatters[f"bacon:{kind}"].get_offsets(), part[["weight", "estimate"]].to_numpy()
        )
    twfe_line = _line(ax, "twfe")
    # Theorem 1: the TWFE estimate is the weighted average of the 2x2 estimates
    expected = float((frame["weight"] * frame["estimate"]).sum())
    np.testing.assert_allclose(twfe_line.get_ydata(), [expected, expected], rtol=1e-10)
    assert _legend_texts(ax)[-1] == f"TWFE estimate ({bacon_result.twfe_estimate:.2f})"
    assert _legend_below_axes(ax)


# --- interrupted time series ----------------------------------------------------------------
def test_its_plot_has_observed_fitted_counterfactual_and_a_legend(its_result):
    ax = its_result.plot(lang="id", percent=True)
    observed = _line(ax, "observed")
    np.testing.assert_allclose(observed.get_ydata(), 100 * its_result.observed.to_numpy())
    np.testing.assert_allclose(_line(ax, "fitted").get_ydata(), 100 * its_result.fitted.to_numpy())
    counterfactual = _line(ax, "counterfactual")
    after = its_result.counterfactual[its_result.counterfactual.index >= "2022-01-01"]
    np.testing.assert_allclose(counterfactual.get_ydata(), 100 * after.to_numpy())
    start = pd.Timestamp("2022-01-01")
    assert list(_line(ax, "intervention").get_xdata()) == [start, start]
    assert _legend_texts(ax) == [
        "Pengamatan",
        "Garis tren",
        "Tren tanpa kebijakan",
        "Awal kebijakan",
    ]
    assert _legend_below_axes(ax)
    # a share on a percent axis, with the Indonesian decimal comma
    labels = _tick_texts(ax)
    assert labels and all(label.endswith("%") for label in labels)
    assert ax.yaxis.get_major_formatter().format_ticks([60, 62.5, 65]) == [
        "60,0%",
        "62,5%",
        "65,0%",
    ]


# --- dose-response ------------------------------------------------------------------------
def test_dose_response_plot_has_bins_with_intervals_and_the_reference_at_zero(dose_result):
    ax = dose_result.plot(percent=True)
    frame = dose_result.to_frame()
    estimates = _line(ax, "estimates")
    np.testing.assert_allclose(estimates.get_xdata(), np.arange(1, len(frame) + 1))
    np.testing.assert_allclose(estimates.get_ydata(), 100 * frame["estimate"])
    reference = _line(ax, "reference")
    assert (list(reference.get_xdata()), list(reference.get_ydata())) == ([0.0], [0.0])
    assert _tick_texts(ax, "x") == ["0", ">0-10", "10-20", "20-40", "40-80", "80+"]
    # the 20 JP minimum lies between the 10-20 and 20-40 bins
    assert list(_line(ax, "threshold").get_xdata()) == [2.5, 2.5]
    bars = [c for c in ax.collections if c.get_segments()]
    lows = np.asarray(bars[0].get_segments())[:, :, 1].min(axis=1)
    np.testing.assert_allclose(lows, 100 * frame["ci_low"])
    assert _legend_below_axes(ax)


# --- locale, percent axes, names ----------------------------------------------------------
@pytest.mark.parametrize(
    "lang, shares, counts",
    [
        ("id", ["0,0", "0,5", "1,0"], ["0", "1.000", "2.000"]),
        ("en", ["0.0", "0.5", "1.0"], ["0", "1,000", "2,000"]),
    ],
)
def test_axis_numbers_follow_the_language(lang, shares, counts):
    _, (small, large) = plt.subplots(1, 2)
    small.set_yticks([0, 0.5, 1])
    large.set_yticks([0, 1000, 2000])
    for ax in (small, large):
        plots.format_axis_numbers(ax, lang)
    assert _tick_texts(small) == shares
    assert _tick_texts(large) == counts


def test_plotted_axes_use_the_decimal_comma_in_indonesian(bacon_result):
    ax = plots.bacon(bacon_result, lang="id")
    labels = _tick_texts(ax, "x") + _tick_texts(ax, "y")
    assert any("," in label for label in labels)
    assert not any("." in label for label in labels), labels


def test_percent_axis_for_shares_and_for_data_in_percent():
    _, ax = plt.subplots()
    plots.percent_axis(ax, "id")
    assert ax.yaxis.get_major_formatter().format_ticks([0.0, 0.25, 0.5]) == [
        "0%",
        "25%",
        "50%",
    ]
    plots.percent_axis(ax, "en", scale=1.0)
    assert ax.yaxis.get_major_formatter().format_ticks([12.5, 15.0]) == ["12.5%", "15.0%"]


def test_short_agency_names_abbreviate_and_never_cut():
    assert plots.short_agency_name("Badan Perencanaan Pembangunan Daerah") == "Bappeda"
    assert plots.short_agency_name("Kecamatan Kota Lama") == "Kec. Kota Lama"
    name = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu"
    assert plots.short_agency_name(name) == name  # whole: a figure wraps it, a table too


# --- print size ---------------------------------------------------------------------------
PLOTS = {
    "event_study": (plots.event_study, "cs_event", {"percent": True}),
    "event_study_twfe": (plots.event_study, "twfe_event", {}),
    "bacon": (plots.bacon, "bacon_result", {}),
    "its": (plots.its, "its_result", {"percent": True}),
    "dose_response": (plots.dose_response, "dose_result", {"percent": True}),
}


@pytest.mark.parametrize("width", ["full", "half"])
@pytest.mark.parametrize("name", list(PLOTS))
def test_no_text_prints_under_7_pt(name, width, request):
    draw, fixture, options = PLOTS[name]
    fig, ax = plt.subplots(figsize=figure_size(width, aspect=0.8), layout="constrained")
    draw(request.getfixturevalue(fixture), ax=ax, lang="id", **options)
    assert smallest_font_pt(fig) >= MIN_FONT_PT
    assert BAND_ALPHA >= 0.2
