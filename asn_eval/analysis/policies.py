"""The per-agency annex (OPD scorecards): one row per agency in the report year.

Pure computation: :func:`scorecards` takes the loaded dataset and an
:class:`~asn_eval.analysis.spec.AnalysisSpec` and returns :class:`Scorecards`, a frame that is
safe to publish (no figure, table file or sentence; chapter 2 renders it). Each agency gets

* a headcount band (:data:`HEADCOUNT_BANDS`; never an exact count, which for a small agency
  would help identify its staff);
* the year it adopted each policy (0 = not yet, :data:`asn_eval.analysis.panels.UNKNOWN_COHORT` =
  dates unknown), as :func:`asn_eval.analysis.panels.adoption_cohorts` counts it;
* the share of appraised employees with an SKP predicate Baik or better (PermenPANRB 6/2022);
* the share of employees meeting the 20 JP minimum (PP 11/2017 art. 203 as amended by
  PP 17/2020);
* IKM (PermenPANRB 14/2017) where the agency was surveyed that year.

Every statistic from fewer than ``spec.min_cell_size`` employees (respondents, for IKM) is
withheld, and so is a second cell wherever one withheld cell could be worked back from a
published total: the report shows city-wide shares (section 2.2, chapter 1) and shares by
agency type (figure of section 2.2), so each column is protected against the city total and
(for the shares) the agency-type totals with
:func:`asn_eval.domain.privacy.suppress_with_complements`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.analysis.panels import agency_year_panel
from asn_eval.analysis.spec import AnalysisSpec
from asn_eval.data.contract import POLICIES
from asn_eval.domain.privacy import SUPPRESSED_MARK, suppress_with_complements

# Headcount bands: upper bound (exclusive) and label; a project choice, wide enough that a
# band does not single out an agency's staff. The last band has no upper bound.
HEADCOUNT_BANDS: tuple[tuple[float, str], ...] = (
    (20, "<20"),
    (50, "20-49"),
    (100, "50-99"),
    (np.inf, "100+"),
)
# Above this many agencies the printed report shows a note and the full annex goes only to
# the table files (CSV, workbook): thousands of rows do not belong in a PDF.
PRINT_ROW_LIMIT = 60
# Each published statistic: the count it is computed from, the range it can take, and the
# groups besides the city whose totals the report publishes (or may publish), against which
# complementary suppression protects it. Shares by agency type are drawn in section 2.2;
# IKM is published city-wide per year (chapter 1).
STATISTICS: dict[str, tuple[str, tuple[float, float], tuple[str, ...]]] = {
    "skp_good_share": ("n_skp", (0.0, 1.0), ("agency_type",)),
    "jp_minimum_share": ("n_employees", (0.0, 1.0), ("agency_type",)),
    "ikm": ("ikm_respondents", (25.0, 100.0), ()),  # IKM = 25 x mean score 1-4
}


def headcount_band(n: pd.Series | list[float]) -> pd.Series:
    """The band of each headcount (:data:`HEADCOUNT_BANDS`); missing for 0 or no count.

    Examples
    --------
    >>> headcount_band([3, 19, 20, 99, 100, 0]).tolist()
    ['<20', '<20', '20-49', '50-99', '100+', nan]
    """
    counts = pd.Series(n, dtype=float)
    edges = [0.0] + [upper for upper, _ in HEADCOUNT_BANDS]
    labels = [label for _, label in HEADCOUNT_BANDS]
    bands = pd.cut(counts.where(counts > 0), bins=edges, labels=labels, right=False)
    return bands.astype(object).where(bands.notna(), np.nan)


@dataclass(frozen=True)
class Scorecards:
    """The per-agency annex, safe to publish.

    Attributes
    ----------
    spec
        The options (``year``, ``min_cell_size``).
    year
        The year the shares and IKM describe (the report year, or the last year of data
        before it).
    table
        One row per agency: ``agency_code, agency_name, agency_type, headcount_band``, one
        column per policy (adoption year, 0 = not yet, -1 = unknown), ``skp_good_share``,
        ``jp_minimum_share`` (proportions) and ``ikm``; withheld cells hold
        :data:`~asn_eval.domain.privacy.SUPPRESSED_MARK`. No exact count.
    city
        The city-wide shares over all agencies (already published elsewhere in the report).
    suppressed
        Per statistic: cells withheld as small (``primary``) and to protect them
        (``complementary``).
    exposed_groups
        Groups whose published total would show a withheld cell (a group with a single
        agency); empty when every withheld cell is protected.
    """

    spec: AnalysisSpec
    year: int
    table: pd.DataFrame
    city: pd.Series
    suppressed: pd.DataFrame
    exposed_groups: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)

    @property
    def n_agencies(self) -> int:
        return len(self.table)

    @property
    def n_suppressed(self) -> int:
        """Cells withheld in all (primary and complementary)."""
        return int(self.suppressed.to_numpy().sum())

    @property
    def fits_in_print(self) -> bool:
        """Whether the annex is short enough for the printed report (:data:`PRINT_ROW_LIMIT`)."""
        return self.n_agencies <= PRINT_ROW_LIMIT

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> pd.Series:
        """Agencies, agencies per headcount band, cells withheld, city-wide shares."""
        bands = self.table["headcount_band"].value_counts()
        out = {"year": self.year, "agencies": self.n_agencies}
        out.update({f"band {label}": int(bands.get(label, 0)) for _, label in HEADCOUNT_BANDS})
        out.update(
            {
                "cells withheld (primary)": int(self.suppressed["primary"].sum()),
                "cells withheld (complementary)": int(self.suppressed["complementary"].sum()),
                "city skp_good_share": float(self.city["skp_good_share"]),
                "city jp_minimum_share": float(self.city["jp_minimum_share"]),
            }
        )
        return pd.Series(out, name="scorecards", dtype=object)

    def _repr_html_(self) -> str:
        head = escape(
            f"Scorecards {self.year}: {self.n_agencies} agencies, "
            f"{self.n_suppressed} cells withheld ({SUPPRESSED_MARK})"
        )
        return f"<p><strong>{head}</strong></p>" + self.table.to_html(index=False, na_rep="")


def scorecards(dataset: Any, spec: AnalysisSpec) -> Scorecards:
    """One row per agency in ``spec.year`` with small cells withheld, primary and complementary.

    The shares are those of :func:`asn_eval.analysis.panels.agency_year_panel` for the year (the
    same numbers as the by-agency table of section 2.2); the adoption years are its cohorts with
    the report year as the last year covered. Each statistic is protected with
    :func:`asn_eval.domain.privacy.suppress_with_complements` against the city total and the
    group totals named in :data:`STATISTICS`, with its own count (appraised employees for SKP,
    employees for JP, respondents for IKM) and ``spec.min_cell_size``.
    """
    year = spec.years(dataset)[-1]
    panel = agency_year_panel(dataset, years=[year])
    names = dataset.tables["agencies"].drop_duplicates("agency_code")
    panel = panel.merge(names[["agency_code", "agency_name"]], on="agency_code", how="left")
    if "ikm" not in panel:
        panel["ikm"] = np.nan
        panel["ikm_respondents"] = np.nan
    city = pd.Series(
        {
            "n_employees": int(panel["n_employees"].sum()),
            "skp_good_share": _weighted(panel, "skp_good_share", "n_skp"),
            "jp_minimum_share": _weighted(panel, "jp_minimum_share", "n_employees"),
        },
        name="city",
        dtype=object,
    )
    shown = panel.assign(headcount_band=headcount_band(panel["n_employees"]).to_numpy())
    shown["agency_type"] = shown["agency_type"].astype(str)
    counts = {}
    exposed: list[tuple[str, str, str]] = []
    for column, (count, value_range, totals_by) in STATISTICS.items():
        shown[count] = shown[count].fillna(0)
        shown = suppress_with_complements(
            shown,
            count,
            [column],
            totals_by=totals_by,
            value_range=value_range,
            min_size=spec.min_cell_size,
        )
        counts[column] = {
            "primary": shown.attrs["n_primary"],
            "complementary": shown.attrs["n_complementary"],
        }
        exposed += shown.attrs["exposed_groups"]
    columns = [
        "agency_code",
        "agency_name",
        "agency_type",
        "headcount_band",
        *[f"cohort_{p}" for p in POLICIES],
        *STATISTICS,
    ]
    table = shown[columns].rename(columns={f"cohort_{p}": p for p in POLICIES})
    table = table.sort_values("agency_code", kind="stable").reset_index(drop=True)
    suppressed = pd.DataFrame(counts).T.astype(int)
    suppressed.index.name = "statistic"
    return Scorecards(
        spec=spec,
        year=int(year),
        table=table,
        city=city,
        suppressed=suppressed,
        exposed_groups=tuple(exposed),
    )


def _weighted(panel: pd.DataFrame, column: str, count: str) -> float:
    """Mean of ``column`` over all employees: agency shares weighted by their counts."""
    weights = panel[count].fillna(0).to_numpy(float)
    values = panel[column].to_numpy(float)
    keep = weights > 0
    return float(np.average(values[keep], weights=weights[keep])) if keep.any() else np.nan
