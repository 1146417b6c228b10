"""Figures of estimation results: event study, Goodman-Bacon decomposition, ITS, dose-response,
Honest DiD sensitivity and power curves.

Why one module of ~950 lines: the result figures share the axis helpers, the
locale number formatting, the legend placement and the label sets; split, each would
import the others' private helpers.

Each function takes a result object from :mod:`asn_eval.estimators` and draws it on a
matplotlib Axes (a new figure at the report's full width when ``ax`` is None) and returns the
Axes, as pyfixest's ``iplot``, R did's ``ggdid`` and CausalPy's ``plot`` do. The result
classes call these from their ``.plot()`` methods, and the report draws with the same
functions, so a figure in a notebook is the figure in the report.

What each figure shows:

- :func:`event_study`: estimates by event time with pointwise confidence intervals (bars)
  and, when the result has a sup-t critical value, the uniform band over the whole curve
  (shaded boxes, as Freyaldenhoven, Hansen, Perez Perez and Shapiro 2021 recommend; the
  legend shows the band in the colours it is drawn in); periods before adoption in
  vermillion squares (:data:`~asn_eval.report.figures.COMPARISON_COLOUR`), after in blue
  circles; the reference period as an open circle at zero; a zero line and a line at
  adoption.
- :func:`bacon`: each 2x2 comparison's estimate against its weight, coloured by comparison
  type, with the TWFE estimate (their weighted average) as a dashed line.
- :func:`its`: the observed months, the fitted segmented trend, the counterfactual trend
  without the policy after it started, and a line at the start.
- :func:`dose_response`: the effect of each training-hour bin against the reference bin
  (drawn at zero), with confidence intervals.
- :func:`synthetic`: synthdid's trajectory plot: the treated average and its synthetic
  control (omega-weighted controls) by period, the counterfactual segment of the treated
  units without the policy, the effect as an arrow, and the time weights (lambda) as a
  shaded area along the bottom.
- :func:`sensitivity`: Honest DiD robust intervals against the bound, the original interval
  at the left, the breakdown value dashed.
- :func:`power_curve`: analytic (and simulated) power against the true effect, the MDE dashed.

Words (axis titles, legend entries) come in English (``lang="en"``) or Indonesian
(``lang="id"``); any of them can be replaced through ``labels``. Numbers on the axes follow
the language (:func:`format_axis_numbers`): ``0,5`` and ``1.000`` in Indonesian, ``0.5`` and
``1,000`` in English. Legends sit below the axes, outside the data. Sizes come from
:mod:`asn_eval.report.figures` (:func:`~asn_eval.report.figures.use_style`), the one place that
sets the report's style.

Examples
--------
>>> from asn_eval.report import plots
>>> ax = plots.event_study(result, lang="id", percent=True)  # doctest: +SKIP
>>> ax = result.plot(lang="id", percent=True)  # the same, from the result  # doctest: +SKIP
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator, ScalarFormatter
from matplotlib.transforms import ScaledTranslation

from asn_eval.common.formatting import check_language, fmt_number
from asn_eval.report.figures import (
    BAND_ALPHA,
    COMPARISON_COLOUR,
    FONT_PT,
    FULL_WIDTH,
    PALETTE,
    TREATED_COLOUR,
    ZERO_LINE_COLOUR,
    figure_size,
)

__all__ = [
    "LABELS",
    "bacon",
    "dose_response",
    "event_study",
    "event_study_frame",
    "format_axis_numbers",
    "its",
    "panel_title",
    "percent_axis",
    "shared_legend",
    "short_agency_name",
    "synthetic",
]

# Words of the figures, by language. Indonesian follows the report's glossary: "selang
# kepercayaan" for a pointwise interval, "pita kepercayaan simultan" for a uniform band,
# "poin persentase" for differences of shares.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "event_time": "Periods since adoption",
        "effect": "Effect",
        "effect_pp": "Effect (percentage points)",
        "pre": "Before adoption",
        "post": "After adoption",
        "reference": "Reference period (0)",
        "pointwise": "{level}% confidence interval",
        "uniform": "{level}% simultaneous band",
        "weight": "Weight of the comparison",
        "estimate_2x2": "2x2 estimate",
        "estimate_2x2_pp": "2x2 estimate (percentage points)",
        "twfe": "TWFE estimate ({value})",
        "treated vs never treated": "Treated vs never treated",
        "earlier vs later treated": "Earlier vs later treated",
        "later vs earlier treated": "Later vs earlier treated",
        "later vs always treated": "Later vs always treated",
        "observed": "Observed",
        "fitted": "Fitted trend",
        "counterfactual": "Trend without the policy",
        "intervention": "Policy start",
        "month": "Month",
        "value": "Value",
        "hours": "Training hours (JP) in the year",
        "reference_bin": "Reference (0 JP)",
        "estimate": "Estimate",
        "threshold": "{value} JP minimum",
        "treated": "Treated",
        "synthetic": "Synthetic control",
        "synthetic_counterfactual": "Without the policy (estimated)",
        "time_weights": "Time weights (lambda)",
        "period": "Period",
        "effect_arrow": "Effect ({value})",
        "robust": "Robust interval ({inference})",
        "original": "Original interval (parallel trends)",
        "breakdown": "Breakdown {bound} = {value}",
        "power": "Power",
        "true_effect": "True effect on {outcome}",
        "analytic": "Analytic",
        "simulated": "Simulated",
        "mde_title": "MDE {value} at {power}% power",
    },
    "id": {
        "event_time": "Periode sejak penerapan",
        "effect": "Efek",
        "effect_pp": "Efek (poin persentase)",
        "pre": "Sebelum penerapan",
        "post": "Sesudah penerapan",
        "reference": "Periode acuan (0)",
        "pointwise": "Selang kepercayaan {level}%",
        "uniform": "Pita kepercayaan simultan {level}%",
        "weight": "Bobot perbandingan",
        "estimate_2x2": "Estimasi 2x2",
        "estimate_2x2_pp": "Estimasi 2x2 (poin persentase)",
        "twfe": "Estimasi TWFE ({value})",
        "treated vs never treated": "Menerapkan vs belum pernah",
        "earlier vs later treated": "Lebih awal vs lebih lambat",
        "later vs earlier treated": "Lebih lambat vs lebih awal (terlarang)",
        "later vs always treated": "Lebih lambat vs sejak awal (terlarang)",
        "observed": "Pengamatan",
        "fitted": "Garis tren",
        "counterfactual": "Tren tanpa kebijakan",
        "intervention": "Awal kebijakan",
        "month": "Bulan",
        "value": "Nilai",
        "hours": "Jam pelatihan (JP) setahun",
        "reference_bin": "Acuan (0 JP)",
        "estimate": "Estimasi",
        "threshold": "Batas minimal {value} JP",
        "treated": "Menerapkan",
        "synthetic": "Kontrol sintetis",
        "synthetic_counterfactual": "Tanpa kebijakan (estimasi)",
        "time_weights": "Bobot waktu (lambda)",
        "period": "Periode",
        "effect_arrow": "Efek ({value})",
        "robust": "Selang tahan pelanggaran ({inference})",
        "original": "Selang semula (tren sejajar)",
        "breakdown": "Titik patah {bound} = {value}",
        "power": "Kuasa uji",
        "true_effect": "Efek sebenarnya pada {outcome}",
        "analytic": "Analitik",
        "simulated": "Simulasi",
        "mde_title": "MDE {value} pada kuasa uji {power}%",
    },
}
# Comparison types of the Goodman-Bacon decomposition, in a fixed order and colour.
_BACON_TYPES = (
    "treated vs never treated",
    "earlier vs later treated",
    "later vs earlier treated",
    "later vs always treated",
)
_BACON_COLOURS = dict(
    zip(_BACON_TYPES, (PALETTE[0], PALETTE[2], PALETTE[3], PALETTE[4]), strict=True)
)
_BACON_MARKERS = dict(zip(_BACON_TYPES, ("o", "s", "^", "v"), strict=True))
# Width of a uniform-band box around an event time, in event-time units.
_BAND_WIDTH = 0.5
# Widely used short names of Indonesian local-government agencies.
_SHORT_NAMES: dict[str, str] = {
    "Sekretariat Daerah": "Setda",
    "Dinas Kependudukan dan Pencatatan Sipil": "Dinas Dukcapil",
    "Badan Perencanaan Pembangunan Daerah": "Bappeda",
    "Badan Penanggulangan Bencana Daerah": "BPBD",
    "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia": "BKPSDM",
    "Rumah Sakit Umum Daerah": "RSUD",
}
_SHORT_PREFIXES: dict[str, str] = {"Kecamatan ": "Kec. ", "Kelurahan ": "Kel. "}
# A legend entry given as a tuple of artists shows them side by side (matplotlib's default
# draws them on top of each other): a band drawn in two colours gets a swatch of each.
_HANDLER_MAP = {tuple: HandlerTuple(ndivide=None, pad=0.0)}
# The artists behind each axes legend drawn here (a legend keeps only simplified copies),
# so that shared_legend can draw the same entries again under a figure.
_LEGEND_ENTRIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------------------
# Axes helpers
# --------------------------------------------------------------------------------------
def _digits_for(values: Sequence[float]) -> int:
    """Decimals needed to tell ticks apart: 0 for a step of 1 or more, 1 for 0.5, ..."""
    values = np.unique(np.round(np.asarray(values, dtype=float), 12))
    values = values[np.isfinite(values)]
    if values.size < 2:
        return 0
    step = float(np.min(np.diff(values)))
    if step <= 0:
        return 0
    digits = max(0, -math.floor(math.log10(step) + 1e-9))
    # a step such as 0.25 needs one more decimal than its order of magnitude says
    while digits < 6 and not np.allclose(values, np.round(values, digits), atol=step * 1e-6):
        digits += 1
    return digits


class _LocaleFormatter(FuncFormatter):
    """Tick labels written by :func:`asn_eval.common.formatting.fmt_number`, with as many decimals
    as the tick spacing needs (or ``digits``)."""

    def __init__(self, lang: str, *, digits: int | None = None, scale: float = 1.0, suffix=""):
        self.lang = check_language(lang)
        self.fixed_digits = digits
        self.digits = 0 if digits is None else digits
        self.scale = scale
        self.suffix = suffix
        super().__init__(self._label)

    def _label(self, x: float, pos: int | None = None) -> str:
        return fmt_number(x * self.scale, self.lang, self.digits) + self.suffix

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        if self.fixed_digits is None:
            self.digits = _digits_for(np.asarray(locs, dtype=float) * self.scale)


def _axes_of(ax: Axes, axis: str):
    if axis not in ("x", "y", "both"):
        raise ValueError(f"axis must be 'x', 'y' or 'both'; got {axis!r}.")
    return [a for name, a in (("x", ax.xaxis), ("y", ax.yaxis)) if axis in (name, "both")]


def format_axis_numbers(
    ax: Axes, lang: str, *, axis: str = "both", digits: int | None = None
) -> Axes:
    """Write the numbers on an axis the way ``lang`` writes them.

    Indonesian uses a decimal comma and dot thousands (``0,5``, ``1.000``), English the
    reverse. Only axes that show plain numbers are changed: dates and category labels keep
    their own labels.

    Parameters
    ----------
    ax
        The Axes.
    lang
        ``"id"`` or ``"en"``.
    axis
        ``"x"``, ``"y"`` or ``"both"``.
    digits
        Decimals; by default as many as the tick spacing needs.

    Returns
    -------
    matplotlib.axes.Axes
    """
    check_language(lang)
    for one in _axes_of(ax, axis):
        if type(one.get_major_formatter()) is ScalarFormatter:
            one.set_major_formatter(_LocaleFormatter(lang, digits=digits))
    return ax


def percent_axis(
    ax: Axes, lang: str, *, axis: str = "y", scale: float = 100.0, digits: int | None = None
) -> Axes:
    """Show shares as percentages on an axis: ``0.25`` -> ``25%`` with ``scale=100``.

    Use ``scale=100`` for data stored as shares (0-1) and ``scale=1`` for data already in
    percent. Numbers follow the language (``12,5%`` in Indonesian).

    Returns
    -------
    matplotlib.axes.Axes
    """
    for one in _axes_of(ax, axis):
        one.set_major_formatter(_LocaleFormatter(lang, digits=digits, scale=scale, suffix="%"))
    return ax


def short_agency_name(name: str) -> str:
    """An agency's name with the abbreviations everyone in local government uses ("Setda",
    "Kec."); otherwise whole, never cut. A long name is wrapped where it is shown
    (:func:`asn_eval.report.figures.wrap_label` on a figure's axis; a table cell wraps by
    itself).

    Examples
    --------
    >>> short_agency_name("Dinas Kependudukan dan Pencatatan Sipil")
    'Dinas Dukcapil'
    >>> short_agency_name("Kecamatan Kelapa Lima")
    'Kec. Kelapa Lima'
    >>> short_agency_name("Dinas Pemberdayaan Perempuan dan Perlindungan Anak")
    'Dinas Pemberdayaan Perempuan dan Perlindungan Anak'
    """
    text = " ".join(str(name).split())
    for long, short in _SHORT_NAMES.items():
        if text == long or text.startswith(long + " "):
            text = short + text[len(long) :]
            break
    for long, short in _SHORT_PREFIXES.items():
        if text.startswith(long):
            text = short + text[len(long) :]
    return text


def _words(lang: str, labels: Mapping[str, str] | None) -> dict[str, str]:
    words = dict(LABELS[check_language(lang)])
    if labels:
        unknown = sorted(set(labels) - set(words))
        if unknown:
            raise ValueError(
                f"Unknown label key(s) {unknown}; the keys are: {', '.join(sorted(words))}."
            )
        words.update(labels)
    return words


def _new_axes(ax: Axes | None, *, aspect: float) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figure_size("full", aspect=aspect), layout="constrained")
    return ax


def _room_in_px(ax: Axes) -> float:
    """Width available to the axes' legend: its share of the figure's columns."""
    fig = ax.figure
    spec = ax.get_subplotspec() if hasattr(ax, "get_subplotspec") else None
    if spec is None:
        return float(ax.bbox.width)
    columns = spec.get_gridspec().ncols
    span = spec.colspan.stop - spec.colspan.start
    return float(fig.bbox.width) * span / columns


def _legend_below(ax: Axes, handles: list, labels: list[str], *, ncol: int | None = None):
    """A legend under the axes, below the tick labels and the axis title.

    The offset is measured in points from the drawn x axis, so it stays right when a
    layout engine later resizes the axes (the type sizes do not change). Without ``ncol``
    the legend takes as many columns (3 at most) as fit in the axes' share of the figure.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    below = ax.xaxis.get_tightbbox(renderer)
    gap_px = max(0.0, ax.bbox.y0 - below.y0) if below is not None else 0.0
    offset = ScaledTranslation(0, -(gap_px * 72.0 / fig.dpi + 4.0) / 72.0, fig.dpi_scale_trans)
    room = _room_in_px(ax)
    choices = [ncol] if ncol is not None else list(range(min(3, len(handles)), 0, -1))
    for columns in choices:
        legend = ax.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            bbox_transform=ax.transAxes + offset,
            ncol=columns,
            frameon=False,
            borderaxespad=0.0,
            handlelength=1.6,
            columnspacing=1.2,
            handler_map=_HANDLER_MAP,
        )
        if legend.get_window_extent(renderer).width <= room or columns == choices[-1]:
            _LEGEND_ENTRIES[ax] = (list(handles), list(labels))
            return legend
        legend.remove()
    return legend


def shared_legend(fig: plt.Figure, *, source: Axes | None = None, ncol: int | None = None):
    """One legend below a figure of several panels, instead of one under each.

    Takes the entries of ``source``'s legend (the first axes with a legend by default),
    removes every axes legend and places the entries under the figure. With a
    constrained-layout figure (``plt.subplots(..., layout="constrained")``) space is made
    for it below the panels.

    Returns
    -------
    matplotlib.legend.Legend
    """
    with_legend = [ax for ax in fig.axes if ax.get_legend() is not None]
    if source is None:
        if not with_legend:
            raise ValueError("shared_legend: no axes of the figure has a legend to share.")
        source = with_legend[0]
    old = source.get_legend()
    handles, labels = _LEGEND_ENTRIES.get(
        source, (old.legend_handles, [t.get_text() for t in old.get_texts()])
    )
    for ax in with_legend:
        ax.get_legend().remove()
    columns = ncol or min(len(handles), 3 if fig.get_figwidth() >= 0.6 * FULL_WIDTH else 2)
    loc = "outside lower center" if fig.get_layout_engine() is not None else "lower center"
    return fig.legend(
        handles, labels, loc=loc, ncol=columns, frameon=False, handler_map=_HANDLER_MAP
    )


def panel_title(ax: Axes, title: str, subtitle: str | None = None):
    """A panel's title in bold with a subtitle under it in the axis-label type, e.g. a policy
    over the outcome it is measured on and that outcome's unit.

    The subtitle sits just above the axes (gid ``"subtitle"``) and the title above it, so a
    constrained layout makes room for both. Returns the subtitle's Text (the title's without
    a subtitle).
    """
    if not subtitle:
        return ax.set_title(title)
    gap = 3.0  # points between the axes, the subtitle and the title
    size = FONT_PT["label"]
    sub = ax.annotate(
        subtitle,
        xy=(0.5, 1.0),
        xycoords="axes fraction",
        xytext=(0, gap),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=size,
        linespacing=1.2,
    )
    sub.set_gid("subtitle")
    ax.set_title(title, pad=2 * gap + (subtitle.count("\n") + 1) * size * 1.2)
    return sub


def _level_pct(level: float) -> str:
    pct = float(level) * 100
    return f"{pct:.0f}" if abs(pct - round(pct)) < 1e-9 else f"{pct:g}"


def _scale_of(scale: float, percent: bool) -> float:
    if percent and scale != 1.0:
        raise ValueError("Give either percent=True (shares shown x 100) or a scale, not both.")
    return 100.0 if percent else float(scale)


# --------------------------------------------------------------------------------------
# Event study
# --------------------------------------------------------------------------------------
def event_study_frame(result: Any, *, scale: float = 1.0) -> pd.DataFrame:
    """The numbers an event-study figure draws, one row per event time.

    Works for any estimate table indexed by event time: the Callaway-Sant'Anna or TWFE
    :func:`~asn_eval.estimators.did.event_study` result, or ``att_gt(...).aggregate("dynamic")``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``event_time``: ``estimate``, ``std_error``, ``ci_low``/``ci_high``
        (pointwise, at the result's level), ``band_low``/``band_high`` (uniform sup-t band;
        missing when the result has no sup-t critical value, e.g. without bootstrap draws or
        for TWFE), ``reference`` (True for the normalised period) and ``pre`` (event time
        before adoption). All values multiplied by ``scale``.
    """
    try:
        params = pd.Series(result.params, dtype=float)
        se = pd.Series(result.std_errors, dtype=float).reindex(params.index)
    except AttributeError as error:
        raise TypeError(
            "event_study plots an event-study result (with params and std_errors indexed by "
            f"event time), e.g. asn_eval.estimators.did.event_study(...); got {type(result)}."
        ) from error
    try:
        times = params.index.astype(float)
    except (TypeError, ValueError) as error:
        raise TypeError(
            "event_study needs estimates indexed by event time (integers); got index "
            f"{list(params.index)[:4]}..."
        ) from error
    pointwise = float(result.pointwise_critical())
    uniform = getattr(result, "critical_value", None)
    reference = getattr(result, "reference", None)
    frame = pd.DataFrame(
        {"estimate": params.to_numpy() * scale, "std_error": se.to_numpy() * abs(scale)},
        index=pd.Index(times.astype(int), name="event_time"),
    )
    half = pointwise * frame["std_error"]
    frame["ci_low"], frame["ci_high"] = frame["estimate"] - half, frame["estimate"] + half
    band = (np.nan if uniform is None else float(uniform)) * frame["std_error"]
    frame["band_low"], frame["band_high"] = frame["estimate"] - band, frame["estimate"] + band
    if reference is None:
        # e.g. att_gt(...).aggregate("dynamic"): the normalised row is 0 without an SE
        frame["reference"] = frame["std_error"].isna() & (frame["estimate"] == 0)
    else:
        frame["reference"] = (frame.index == reference) & frame["std_error"].isna()
    frame["pre"] = frame.index < 0
    return frame.sort_index()


def event_study(
    result: Any,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    scale: float = 1.0,
    percent: bool = False,
    uniform: bool = True,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    legend: bool = True,
) -> Axes:
    """Plot an event study: estimates, pointwise intervals, the uniform band, the reference.

    Parameters
    ----------
    result
        An event-study result (Callaway-Sant'Anna or TWFE, see :func:`event_study_frame`).
    ax
        Axes to draw on; a new full-width figure when None.
    lang
        ``"en"`` or ``"id"``: words and number format.
    scale
        Multiply estimates by this (e.g. 100 for shares in percentage points).
    percent
        The outcome is a share: show effects in percentage points (``scale=100``).
    uniform
        Draw the uniform (sup-t) band when the result has one.
    title, xlabel, ylabel
        Override the default words (no title by default: the report's caption is the title).
    labels
        Replace legend words; keys as in :data:`LABELS`.
    legend
        Draw the legend below the axes (turn off to share one legend between panels).

    Returns
    -------
    matplotlib.axes.Axes
        The uniform band boxes are a :class:`~matplotlib.collections.PolyCollection` with gid
        ``"uniform_band"``; the points are lines with gids ``"estimates_pre"``,
        ``"estimates_post"`` and ``"reference"``.
    """
    words = _words(lang, labels)
    frame = event_study_frame(result, scale=_scale_of(scale, percent))
    ax = _new_axes(ax, aspect=0.55)
    level = _level_pct(getattr(result, "level", 0.95))
    ax.axhline(0, color=ZERO_LINE_COLOUR, linewidth=0.8, zorder=1)
    ax.axvline(-0.5, color=ZERO_LINE_COLOUR, linewidth=0.8, linestyle=":", zorder=1)
    handles, names = [], []
    estimated = frame["std_error"].notna()
    has_band = uniform and frame.loc[estimated, "band_low"].notna().any()
    if has_band:
        rows = frame[estimated & frame["band_low"].notna()]
        boxes, colours = [], []
        for e, row in rows.iterrows():
            x0, x1 = e - _BAND_WIDTH / 2, e + _BAND_WIDTH / 2
            lo, hi = row["band_low"], row["band_high"]
            boxes.append([(x0, lo), (x1, lo), (x1, hi), (x0, hi)])
            colours.append(COMPARISON_COLOUR if row["pre"] else TREATED_COLOUR)
        band = PolyCollection(
            boxes, facecolors=colours, edgecolors="none", alpha=BAND_ALPHA, zorder=2
        )
        band.set_gid("uniform_band")
        ax.add_collection(band)
    for part, colour, marker in (("pre", COMPARISON_COLOUR, "s"), ("post", TREATED_COLOUR, "o")):
        rows = frame[estimated & (frame["pre"] == (part == "pre"))]
        if rows.empty:
            continue
        est = rows["estimate"].to_numpy(dtype=float)
        drawn = ax.errorbar(
            rows.index.to_numpy(dtype=float),
            est,
            yerr=[est - rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy() - est],
            fmt=marker,
            color=colour,
            markersize=4,
            capsize=2.5,
            elinewidth=1.0,
            zorder=3,
        )
        drawn.lines[0].set_gid(f"estimates_{part}")
        handles.append(drawn)
        names.append(words[part])
    reference = frame[frame["reference"]]
    if not reference.empty:
        (ref,) = ax.plot(
            reference.index.to_numpy(dtype=float),
            reference["estimate"].to_numpy(dtype=float),
            "o",
            mfc="white",
            mec=ZERO_LINE_COLOUR,
            markersize=4.5,
            zorder=4,
        )
        ref.set_gid("reference")
        handles.append(ref)
        names.append(words["reference"])
    handles.append(
        Line2D([], [], color=ZERO_LINE_COLOUR, marker="|", markersize=8, linestyle="none")
    )
    names.append(words["pointwise"].format(level=level))
    if has_band:
        # The band's swatch in the colours it is drawn in (before and after adoption).
        swatches = tuple(
            Patch(facecolor=colour, alpha=BAND_ALPHA, edgecolor="none")
            for colour in dict.fromkeys(colours)
        )
        handles.append(swatches if len(swatches) > 1 else swatches[0])
        names.append(words["uniform"].format(level=level))
    span = int(frame.index.max() - frame.index.min()) if len(frame) else 0
    ax.xaxis.set_major_locator(MultipleLocator(1) if span <= 12 else MaxNLocator(integer=True))
    ax.autoscale_view()
    ax.set_xlabel(words["event_time"] if xlabel is None else xlabel)
    ax.set_ylabel(
        (words["effect_pp"] if percent else words["effect"]) if ylabel is None else ylabel
    )
    if title:
        ax.set_title(title)
    format_axis_numbers(ax, lang)
    if legend:
        _legend_below(ax, handles, names)
    return ax


# --------------------------------------------------------------------------------------
# Goodman-Bacon decomposition
# --------------------------------------------------------------------------------------
def bacon(
    result: Any,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    scale: float = 1.0,
    percent: bool = False,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    legend: bool = True,
) -> Axes:
    """Plot a Goodman-Bacon decomposition: 2x2 estimates against their weights, by type.

    The dashed line is the TWFE estimate, the weighted average of the points
    (Goodman-Bacon 2021, Theorem 1); the solid line is zero.

    Parameters
    ----------
    result
        A :class:`~asn_eval.estimators.bacon.BaconResult`.
    ax, lang, scale, percent, title, xlabel, ylabel, labels, legend
        As in :func:`event_study`.

    Returns
    -------
    matplotlib.axes.Axes
        One scatter (PathCollection) per comparison type, with gid ``"bacon:<type>"``, and
        the TWFE line with gid ``"twfe"``.
    """
    words = _words(lang, labels)
    factor = _scale_of(scale, percent)
    frame = result.to_frame()
    ax = _new_axes(ax, aspect=0.55)
    ax.axhline(0, color=ZERO_LINE_COLOUR, linewidth=0.8, zorder=1)
    handles, names = [], []
    kinds = [k for k in _BACON_TYPES if k in set(frame["type"])]
    kinds += sorted(set(frame["type"]) - set(kinds))
    for i, kind in enumerate(kinds):
        part = frame[frame["type"] == kind]
        points = ax.scatter(
            part["weight"].to_numpy(dtype=float),
            part["estimate"].to_numpy(dtype=float) * factor,
            s=22,
            color=_BACON_COLOURS.get(kind, PALETTE[(i + 5) % len(PALETTE)]),
            marker=_BACON_MARKERS.get(kind, "D"),
            edgecolors="white",
            linewidths=0.4,
            zorder=3,
        )
        points.set_gid(f"bacon:{kind}")
        handles.append(points)
        names.append(words.get(kind, kind))
    twfe_value = float(result.twfe_estimate) * factor
    line = ax.axhline(twfe_value, color=ZERO_LINE_COLOUR, linestyle="--", linewidth=1.0, zorder=2)
    line.set_gid("twfe")
    handles.append(line)
    names.append(words["twfe"].format(value=fmt_number(twfe_value, lang, 2)))
    ax.set_xlim(left=0)
    ax.set_xlabel(words["weight"] if xlabel is None else xlabel)
    ax.set_ylabel(
        (words["estimate_2x2_pp"] if percent else words["estimate_2x2"])
        if ylabel is None
        else ylabel
    )
    if title:
        ax.set_title(title)
    format_axis_numbers(ax, lang)
    if legend:
        _legend_below(ax, handles, names)
    return ax


# --------------------------------------------------------------------------------------
# Interrupted time series
# --------------------------------------------------------------------------------------
def its(
    result: Any,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    scale: float = 1.0,
    percent: bool = False,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    legend: bool = True,
) -> Axes:
    """Plot an interrupted time series: observed months, fitted trend, counterfactual.

    The counterfactual (the fitted line without the level and slope change) is drawn from
    the policy start on, where it differs from the fitted line; the vertical line marks the
    start.

    Parameters
    ----------
    result
        An :class:`~asn_eval.estimators.its.InterruptedTimeSeriesResult`.
    ax, lang, scale, title, xlabel, ylabel, labels, legend
        As in :func:`event_study`.
    percent
        The outcome is a share (0-1): the axis shows percentages (``12,5%``).

    Returns
    -------
    matplotlib.axes.Axes
        Lines with gids ``"observed"``, ``"fitted"``, ``"counterfactual"`` and
        ``"intervention"``.
    """
    words = _words(lang, labels)
    factor = _scale_of(scale, percent)
    ax = _new_axes(ax, aspect=0.5)
    observed, fitted = result.observed * factor, result.fitted * factor
    post = result.counterfactual.index >= result.intervention
    counterfactual = result.counterfactual[post] * factor
    (obs,) = ax.plot(
        observed.index, observed.to_numpy(), "o", color=PALETTE[7], markersize=2.5, zorder=3
    )
    (fit,) = ax.plot(fitted.index, fitted.to_numpy(), color=TREATED_COLOUR, linewidth=1.3)
    (cf,) = ax.plot(
        counterfactual.index,
        counterfactual.to_numpy(),
        color=COMPARISON_COLOUR,
        linestyle="--",
        linewidth=1.3,
    )
    start = ax.axvline(result.intervention, color=ZERO_LINE_COLOUR, linestyle=":", linewidth=1.0)
    for line, gid in (
        (obs, "observed"),
        (fit, "fitted"),
        (cf, "counterfactual"),
        (start, "intervention"),
    ):
        line.set_gid(gid)
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_xlabel(words["month"] if xlabel is None else xlabel)
    ax.set_ylabel(words["value"] if ylabel is None else ylabel)
    if title:
        ax.set_title(title)
    if percent:
        percent_axis(ax, lang, axis="y", scale=1.0)
    else:
        format_axis_numbers(ax, lang, axis="y")
    if legend:
        names = [words[k] for k in ("observed", "fitted", "counterfactual", "intervention")]
        _legend_below(ax, [obs, fit, cf, start], names)
    return ax


# --------------------------------------------------------------------------------------
# Dose-response
# --------------------------------------------------------------------------------------
def dose_response(
    result: Any,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    scale: float = 1.0,
    percent: bool = False,
    threshold: bool = True,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    legend: bool = True,
) -> Axes:
    """Plot a dose-response: each hours bin against the reference bin, with intervals.

    The reference bin (no training) is drawn at zero as an open circle; the other bins are
    their estimated differences from it with pointwise confidence intervals.

    Parameters
    ----------
    result
        A :class:`~asn_eval.estimators.dose.DoseResponseResult`.
    ax, lang, scale, percent, title, xlabel, ylabel, labels, legend
        As in :func:`event_study` (``percent=True`` for a 0/1 outcome: percentage points).
    threshold
        Mark the boundary between the bins below and from the result's threshold (the
        20 JP minimum) when it falls on a bin edge.

    Returns
    -------
    matplotlib.axes.Axes
        The estimates are the line with gid ``"estimates"``, the reference point ``"reference"``.
    """
    from asn_eval.estimators.dose import REFERENCE_BIN

    words = _words(lang, labels)
    factor = _scale_of(scale, percent)
    frame = result.to_frame()
    ax = _new_axes(ax, aspect=0.55)
    bins = [REFERENCE_BIN, *frame["hours_bin"].astype(str)]
    x = np.arange(len(bins), dtype=float)
    est = frame["estimate"].to_numpy(dtype=float) * factor
    lo = frame["ci_low"].to_numpy(dtype=float) * factor
    hi = frame["ci_high"].to_numpy(dtype=float) * factor
    ax.axhline(0, color=ZERO_LINE_COLOUR, linewidth=0.8, zorder=1)
    ax.plot(x, np.r_[0.0, est], color=TREATED_COLOUR, linewidth=0.8, alpha=0.6, zorder=2)
    drawn = ax.errorbar(
        x[1:],
        est,
        yerr=[est - lo, hi - est],
        fmt="o",
        color=TREATED_COLOUR,
        markersize=4,
        capsize=2.5,
        elinewidth=1.0,
        zorder=3,
    )
    drawn.lines[0].set_gid("estimates")
    (ref,) = ax.plot([0.0], [0.0], "o", mfc="white", mec=ZERO_LINE_COLOUR, markersize=4.5, zorder=4)
    ref.set_gid("reference")
    handles = [drawn, ref]
    names = [
        words["estimate"]
        + ", "
        + words["pointwise"].format(level=_level_pct(result.level)).lower(),
        words["reference_bin"],
    ]
    if threshold:
        edge = _threshold_position(bins, float(result.threshold))
        if edge is not None:
            mark = ax.axvline(edge, color=ZERO_LINE_COLOUR, linestyle=":", linewidth=1.0)
            mark.set_gid("threshold")
            handles.append(mark)
            names.append(words["threshold"].format(value=fmt_number(result.threshold, lang, 0)))
    # the axis title says "JP"; the tick labels need only the numbers
    ax.set_xticks(x, [_without_unit(b, "JP") for b in bins])
    ax.set_xlabel(words["hours"] if xlabel is None else xlabel)
    ax.set_ylabel(
        (words["effect_pp"] if percent else words["effect"]) if ylabel is None else ylabel
    )
    if title:
        ax.set_title(title)
    format_axis_numbers(ax, lang, axis="y")
    if legend:
        _legend_below(ax, handles, names)
    return ax


def _without_unit(label: str, unit: str) -> str:
    return label[: -len(unit) - 1] if label.endswith(" " + unit) else label


def _threshold_position(bins: list[str], threshold: float) -> float | None:
    """x between the bin ending at ``threshold`` and the bin starting there, if any."""
    label = f"{threshold:g}-"
    for i, name in enumerate(bins):
        if name.startswith(label) or name.startswith(f"{threshold:g}+"):
            return i - 0.5
    return None


# --------------------------------------------------------------------------------------
# Synthetic difference-in-differences
# --------------------------------------------------------------------------------------
def synthetic(
    result: Any,
    *,
    ax: Axes | None = None,
    lang: str = "en",
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    legend: bool = True,
    percent: bool = False,
) -> Axes:
    """Plot a synthetic DID, synthetic control or block DID as synthdid's ``plot`` does.

    The treated units' average and their synthetic control (the omega-weighted controls)
    by period; a line at the first treated period; from the lambda-weighted pre-treatment
    average of the treated units, a dashed segment parallel to the synthetic control's change
    (where the treated units would have ended without the policy); an arrow from there to
    the treated units' post-treatment average, which is the estimate; and the time weights
    as a shaded area along the bottom (their height relative to the largest weight).

    Parameters
    ----------
    result
        A :class:`~asn_eval.estimators.synthetic.SyntheticResult`.
    ax, lang, title, xlabel, ylabel, labels, legend
        As in :func:`event_study`.
    percent
        The outcome is a share (0-1): the axis shows percentages and the effect percentage
        points.

    Returns
    -------
    matplotlib.axes.Axes
        Artists with gids ``"treated"``, ``"synthetic"``, ``"counterfactual"``,
        ``"effect"``, ``"time_weights"`` and ``"onset"``.
    """
    words = _words(lang, labels)
    ax = _new_axes(ax, aspect=0.5)
    factor = _scale_of(1.0, percent)
    paths = result.trajectories * factor
    times = paths.index
    x = np.arange(len(times), dtype=float) if not _is_numeric_index(times) else times
    x = np.asarray(x, dtype=float)
    t0 = len(result.time_weights)
    lam = result.time_weights.to_numpy()
    post_x = x[t0:].mean()
    (treated,) = ax.plot(x, paths["treated"].to_numpy(), color=TREATED_COLOUR, linewidth=1.3)
    (synth,) = ax.plot(x, paths["synthetic"].to_numpy(), color=COMPARISON_COLOUR, linewidth=1.3)
    onset = ax.axvline(
        (x[t0 - 1] + x[t0]) / 2, color=ZERO_LINE_COLOUR, linestyle=":", linewidth=1.0
    )
    tr_pre = float(paths["treated"].to_numpy()[:t0] @ lam) if lam.sum() > 0 else np.nan
    sy_pre = float(paths["synthetic"].to_numpy()[:t0] @ lam) if lam.sum() > 0 else np.nan
    tr_post = float(paths["treated"].to_numpy()[t0:].mean())
    sy_post = float(paths["synthetic"].to_numpy()[t0:].mean())
    if lam.sum() > 0:
        pre_x = float(x[:t0] @ lam / lam.sum())
        without = tr_pre + (sy_post - sy_pre)
        ax.plot([pre_x, post_x], [sy_pre, sy_post], color=COMPARISON_COLOUR, linewidth=0.8)
        ax.plot([pre_x, post_x], [tr_pre, tr_post], color=TREATED_COLOUR, linewidth=0.8)
    else:
        # synthetic control: no time weights, the counterfactual is the synthetic control
        pre_x, without = post_x, sy_post
    (cf,) = ax.plot(
        [pre_x, post_x],
        [tr_pre if lam.sum() > 0 else sy_post, without],
        color=TREATED_COLOUR,
        linestyle="--",
        linewidth=1.0,
    )
    arrow = ax.annotate(
        "",
        xy=(post_x, tr_post),
        xytext=(post_x, without),
        arrowprops={"arrowstyle": "->", "color": PALETTE[7], "linewidth": 1.0},
    )
    low, high = ax.get_ylim()
    if lam.max() > 0:
        height = 0.15 * (high - low) * lam / lam.max()
        weights = ax.fill_between(
            x[:t0], low, low + height, color=COMPARISON_COLOUR, alpha=BAND_ALPHA, linewidth=0
        )
    else:
        weights = ax.fill_between(x[:t0], low, low, color=COMPARISON_COLOUR, alpha=BAND_ALPHA)
    ax.set_ylim(low, high)
    for artist, gid in (
        (treated, "treated"),
        (synth, "synthetic"),
        (cf, "counterfactual"),
        (arrow, "effect"),
        (weights, "time_weights"),
        (onset, "onset"),
    ):
        artist.set_gid(gid)
    if isinstance(times, pd.PeriodIndex) and times.freqstr.startswith("M"):
        january = np.flatnonzero(times.month == 1)  # monthly periods: one tick a year
        ax.set_xticks(x[january], [str(year) for year in times.year[january]])
    elif not _is_numeric_index(times):
        ticks = np.linspace(0, len(times) - 1, min(len(times), 6)).round().astype(int)
        ax.set_xticks(x[ticks], [str(times[i]) for i in ticks])
    ax.set_xlabel(words["period"] if xlabel is None else xlabel)
    ax.set_ylabel(result.outcome if ylabel is None else ylabel)
    if percent:
        percent_axis(ax, lang, axis="y", scale=1.0)
    else:
        format_axis_numbers(ax, lang, axis="y")
    if title:
        ax.set_title(title)
    if legend:
        value = fmt_number(result.estimate * factor, lang, digits=1)
        handles = [treated, synth, cf, weights]
        names = [words[k] for k in ("treated", "synthetic", "synthetic_counterfactual")]
        names.append(words["time_weights"])
        _legend_below(ax, handles, names)
        ax.text(
            post_x,
            (tr_post + without) / 2,
            " " + words["effect_arrow"].format(value=value),
            fontsize=FONT_PT["base"],
            va="center",
            ha="left",
        )
    return ax


def _is_numeric_index(index: pd.Index) -> bool:
    return pd.api.types.is_numeric_dtype(index) and not pd.api.types.is_bool_dtype(index)
def sensitivity(
    result: Any, *, ax: Axes | None = None, lang: str = "en", legend: bool = True
) -> Axes:
    """Honest DiD sensitivity: robust intervals against the bound on violations of parallel
    trends (:func:`~asn_eval.estimators.honest_did`), the original interval at the left and a
    dashed line at the breakdown value; returns the Axes.

    Robust intervals are drawn in :data:`TREATED_COLOUR`, the original one in
    :data:`COMPARISON_COLOUR`, as every other figure of the report pairs them.
    """
    words = _words(lang, None)
    ax = _new_axes(ax, aspect=0.55)
    m = result.intervals["m"].to_numpy(dtype=float)
    gap = float(np.min(np.diff(np.sort(m)))) if m.size > 1 else 1.0
    x0 = (m.min() if m.size else 0.0) - gap
    lo = result.intervals["ci_low"].to_numpy(dtype=float)
    hi = result.intervals["ci_high"].to_numpy(dtype=float)
    robust = ax.vlines(m, lo, hi, color=TREATED_COLOUR, lw=2)
    robust.set_gid("robust")
    ax.scatter(np.r_[m, m], np.r_[lo, hi], color=TREATED_COLOUR, marker="_", s=80)
    original = ax.vlines(
        [x0], [result.original[0]], [result.original[1]], color=COMPARISON_COLOUR, lw=2
    )
    original.set_gid("original")
    ax.scatter([x0, x0], list(result.original), color=COMPARISON_COLOUR, marker="_", s=80)
    ax.axhline(0.0, color=ZERO_LINE_COLOUR, lw=0.8)
    handles = [robust, original]
    names = [words["robust"].format(inference=result.inference), words["original"]]
    if np.isfinite(result.breakdown):
        mark = ax.axvline(result.breakdown, color=ZERO_LINE_COLOUR, ls="--", lw=1)
        mark.set_gid("breakdown")
        handles.append(mark)
        names.append(
            words["breakdown"].format(
                bound=result.bound_name, value=fmt_number(result.breakdown, lang, 2)
            )
        )
    ax.set_xlabel(result.bound_name)
    ax.set_ylabel(result.outcome or words["effect"])
    format_axis_numbers(ax, lang)
    if legend:
        _legend_below(ax, handles, names)
    return ax


def power_curve(
    analytic: Any,
    simulated: Any = None,
    *,
    ax: Axes | None = None,
    effects: Sequence[float] | None = None,
    lang: str = "en",
) -> Axes:
    """Power against the true effect (:func:`~asn_eval.estimators.power.mde`), with the
    simulated power and its +-2 Monte Carlo standard errors over it when given; dotted lines
    at the target power and the test's size, a dashed one at the MDE; returns the Axes."""
    words = _words(lang, None)
    ax = _new_axes(ax, aspect=0.6)
    if effects is None:
        effects = np.linspace(0.0, 2.0 * analytic.mde, 81)
    effects = np.asarray(effects, dtype=float)
    (curve,) = ax.plot(
        effects, analytic.power_at(effects), color=TREATED_COLOUR, label=words["analytic"]
    )
    curve.set_gid("analytic")
    if simulated is not None:
        grid = np.linspace(effects.min(), effects.max(), 21)
        p = np.asarray(simulated.power_at(grid))
        band = 2.0 * np.sqrt(p * (1 - p) / simulated.n_sim)
        ax.errorbar(
            grid, p, yerr=band, fmt="o", ms=3, color=COMPARISON_COLOUR, capsize=2,
            label=words["simulated"],
        )  # fmt: skip
    ax.axhline(analytic.power, color=ZERO_LINE_COLOUR, linestyle=":", linewidth=0.8)
    ax.axvline(analytic.mde, color=ZERO_LINE_COLOUR, linestyle="--", linewidth=0.8)
    ax.axhline(analytic.alpha, color=ZERO_LINE_COLOUR, linestyle=":", linewidth=0.6)
    ax.set_xlabel(words["true_effect"].format(outcome=analytic.outcome))
    ax.set_ylabel(words["power"])
    ax.set_ylim(0, 1.02)
    ax.set_title(
        words["mde_title"].format(
            value=fmt_number(analytic.mde, lang, 2), power=round(analytic.power * 100)
        )
    )
    format_axis_numbers(ax, lang)
    ax.legend(loc="lower right")
    return ax
