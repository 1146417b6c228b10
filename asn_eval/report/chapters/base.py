"""What every chapter shares: the loaded data, numbering, prose, figures and tables.

A chapter is opened once per notebook (:func:`asn_eval.report.chapters.open_chapter`); ``heading()``
shows the chapter title and its introduction, and ``show(section)`` shows one numbered
section: its heading, prose from the report's templates (``chapters.<chapter>`` in
``asn_eval/report/templates/<lang>.yaml``, filled by :func:`asn_eval.report.narrative.text`), and
numbered figures and tables,
which are also saved under ``output_dir/figures`` and ``output_dir/tables``. Everything shown
is HTML without run-dependent bytes, so executed notebooks compare equal under nbval.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from asn_eval.analysis.spec import AnalysisSpec
from asn_eval.common import formatting as fmt
from asn_eval.common.memory import release_memory
from asn_eval.config import DEFAULT_SEED
from asn_eval.domain import privacy
from asn_eval.domain.regulations import MIN_CELL_SIZE
from asn_eval.report import labels, narrative

# Loaded datasets are cached outside the report folder: they hold pseudonymised records of
# individuals, which must not travel with a report that is shared.
# ASN_EVAL_CACHE_DIR moves it (e.g. to storage a Spark cluster's executors can read).
CACHE_DIR = Path(
    os.environ.get("ASN_EVAL_CACHE_DIR") or Path(tempfile.gettempdir()) / "asn-eval-cache"
)
# Refuse a figure whose smallest text prints under figures.MIN_FONT_PT: every chapter draws
# at its printed size (issue 11, item 5), so a figure that would not is a bug to see at once.
ENFORCE_MIN_FONT = True
# Marks a suppressed cell (a statistic from fewer than MIN_CELL_SIZE employees).
SUPPRESSED = privacy.SUPPRESSED_MARK
_DATA_CACHE: dict[str, Any] = {}


def load_dataset_cached(data_dir: str | Path, *, cache_dir: str | Path | None = None) -> Any:
    """Load the dataset once per process (and once per data version when ``cache_dir`` is set).

    With ``cache_dir``, the validated, pseudonymised dataset is kept there as Parquet
    (:func:`asn_eval.data.cache.validated_dataset`): the first process to ask loads and
    validates the data folder, every other one opens the cache and reads each table when it
    first uses it. The key is the hash of every data file, of the loading code and of the
    pseudonymisation key's identity, so edited data are loaded anew. The cache holds no NIP
    or name.
    """
    from asn_eval.data import load_dataset
    from asn_eval.data.cache import dataset_key, validated_dataset

    data_dir = Path(data_dir)
    key = dataset_key(data_dir) if data_dir.is_dir() else None
    if key is not None and key in _DATA_CACHE:
        dataset = _DATA_CACHE[key]
    elif cache_dir is not None:
        # sizes only: the report's data check hashed every file before the chapters started
        dataset = validated_dataset(data_dir, cache_dir=cache_dir, verify="size")
    else:
        dataset = load_dataset(data_dir)
    # The cache is keyed by content, so the same files may sit elsewhere now: the dataset
    # names the folder it was asked for (truth.json and the cover are read from there).
    if getattr(dataset, "source", None) is not None:
        dataset.source = data_dir.resolve()
    if key is not None:
        _DATA_CACHE[key] = dataset
    return dataset


def _display(html_text: str, kind: str = "text", **label: Any) -> None:
    """Show one piece in the notebook, labelled for the report document
    (:mod:`asn_eval.report.labels`)."""
    labels.show(html_text, kind, **label)


class Chapter:
    """Base class of the five chapters.

    Subclasses set ``number``, ``key`` and ``sections`` (section keys in report order) and
    define one method ``section_<key>()`` per section that returns nothing and emits its
    content through :meth:`paragraph`, :meth:`figure` and :meth:`table`.

    Parameters
    ----------
    dataset
        The loaded dataset (``asn_eval.data.Dataset``).
    year
        Report year: the last year analysed and the year of the workforce snapshot.
    lang
        ``"id"`` or ``"en"``.
    seed
        Seed of every random draw (bootstrap, permutations).
    output_dir
        Report folder; figures, tables and ``results.json`` go there.
    min_cell_size
        Statistics from fewer employees are suppressed.
    spec
        The analysis options (:class:`asn_eval.analysis.AnalysisSpec`); when given, its
        ``year``, ``seed`` and ``min_cell_size`` are used instead of the arguments above.
    """

    number: int = 0
    key: str = ""
    sections: tuple[str, ...] = ()

    def __init__(
        self,
        dataset: Any,
        *,
        year: int | None = None,
        lang: str = fmt.DEFAULT_LANGUAGE,
        seed: int = DEFAULT_SEED,
        output_dir: str | Path = ".",
        min_cell_size: int = MIN_CELL_SIZE,
        spec: AnalysisSpec | None = None,
    ) -> None:
        from asn_eval.report.figures import FigureRegistry, use_style
        from asn_eval.report.tables import TableRegistry

        if spec is None:
            if year is None:
                raise ValueError("A chapter needs the report year (year=) or a spec (spec=).")
            spec = AnalysisSpec(year=int(year), seed=int(seed), min_cell_size=int(min_cell_size))
        self.spec = spec
        self.dataset = dataset
        self.year = int(spec.year)
        self.lang = fmt.check_language(lang)
        self.seed = int(spec.seed)
        self.output_dir = Path(output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.min_cell_size = int(spec.min_cell_size)
        self._figures = FigureRegistry(self.output_dir, chapter=self.number, lang=self.lang)
        self._tables = TableRegistry(self.output_dir, chapter=self.number, lang=self.lang)
        self.emitted: list[tuple[str, str]] = []  # (kind, caption or text), for tests
        self._headings = 0  # headings shown so far, for their anchors (ch3-h1, ch3-h2, ...)
        use_style()

    # --- years ------------------------------------------------------------------------
    @property
    def years(self) -> list[int]:
        """Years analysed: the dataset's years up to the report year."""
        years = [int(y) for y in self.dataset.years if int(y) <= self.year]
        return years or [int(y) for y in self.dataset.years]

    # --- prose ------------------------------------------------------------------------
    def t(self, key: str, **values: Any) -> Any:
        """This chapter's text ``key`` (``chapters.<chapter>.<key>`` in the templates) filled in.

        A key naming a group (e.g. column labels) returns the group as a dictionary.
        """
        full = f"chapters.{self.key}.{key}"
        values = {**self.level_values, **values}
        if full not in narrative.templates(self.lang):
            try:
                return narrative.text_group(full, self.lang, **values)
            except KeyError:
                pass  # not a group either: text() below names the key and close matches
        return narrative.text(full, self.lang, **values)

    def common(self, key: str, **values: Any) -> str:
        """Report-wide text ``report.<key>`` (e.g. ``source``, ``synthetic_notice``)."""
        return narrative.text(f"report.{key}", self.lang, **{**self.level_values, **values})

    @property
    def level_values(self) -> dict[str, Any]:
        """What every text of the chapter may name of the confidence level: ``level`` (``95``
        before a ``%``) and ``one_in`` (``20``: one interval in so many misses by chance). A
        text that means something else by ``level`` is given its own value."""
        return {
            "level": narrative.level_percent(self.spec.level, self.lang),
            "one_in": narrative.misses_one_in(self.spec.level),
        }

    def num(self, x: Any, digits: int = 1) -> str:
        return fmt.fmt_number(x, self.lang, digits)

    def pct(self, x: Any, digits: int = 1) -> str:
        return fmt.fmt_percent(x, self.lang, digits)

    def date(self, x: Any) -> str:
        return fmt.fmt_date(x, self.lang)

    def p_eq(self, p: Any) -> str:
        """A p-value after the letter p: ``"= 0,061"`` or ``"< 0,001"``."""
        return narrative.p_relation(p, self.lang)

    def paragraph(self, text: str, *, css: str = "") -> None:
        """Show one paragraph (plain text, HTML-escaped; ``**bold**`` is not interpreted)."""
        cls = f' class="{css}"' if css else ""
        self.emitted.append(("paragraph", text))
        _display(f"<p{cls}>{html.escape(text)}</p>")

    def bullets(self, items: Sequence[str]) -> None:
        self.emitted.append(("bullets", "\n".join(items)))
        body = "".join(f"<li>{html.escape(item)}</li>" for item in items)
        _display(f"<ul>{body}</ul>")

    def notice(self, text: str) -> None:
        """A boxed notice, e.g. the synthetic-data warning."""
        self.emitted.append(("notice", text))
        _display(
            '<div class="notice" style="border:2px solid #D55E00;padding:0.5em 1em;'
            f'margin:1em 0"><strong>{html.escape(text)}</strong></div>'
        )

    # --- headings ---------------------------------------------------------------------
    def heading(self) -> None:
        """Show the chapter title (``# 3. Dampak``) and its opening paragraph."""
        self.show_heading(1, f"{self.number}. {self.t('title')}")
        self.paragraph(self.t("intro"))
        self.after_heading()

    def after_heading(self) -> None:
        """Hook for chapter-specific content under the title (e.g. the synthetic notice)."""

    def section_number(self, section: str) -> str:
        return f"{self.number}.{self.sections.index(section) + 1}"

    def show(self, section: str) -> None:
        """Show one section: numbered heading, prose, figures and tables."""
        if section not in self.sections:
            raise ValueError(
                f"Chapter {self.number} ({self.key}) has no section {section!r}; "
                f"its sections are {', '.join(self.sections)}."
            )
        title = self.t(f"sections.{section}.title")
        self.show_heading(2, f"{self.section_number(section)} {title}")
        getattr(self, f"section_{section}")()
        release_memory()  # a section's figures and frames are done with

    def subheading(self, text: str) -> None:
        """An unnumbered heading inside a section (h3: not listed in the contents)."""
        self.show_heading(3, text)

    def show_heading(self, level: int, text: str) -> None:
        """Show a heading (1 chapter, 2 section, 3 unnumbered) with the next anchor of this
        chapter, which the report's contents link to."""
        self._headings += 1
        anchor = f"ch{self.number}-h{self._headings}"
        self.emitted.append((f"h{level}", text))
        _display(labels.heading_html(level, text), "heading", level=level, text=text, anchor=anchor)

    def synthetic_notice(self) -> None:
        if bool(getattr(self.dataset, "synthetic", False)):
            self.notice(self.common("synthetic_notice"))

    # --- figures and tables -----------------------------------------------------------
    def figure(self, fig: Any, slug: str, caption: str) -> None:
        """Save ``fig`` as the chapter's next numbered figure and show it with its caption.

        With :data:`ENFORCE_MIN_FONT` on, a figure with text that would print smaller than
        :data:`asn_eval.report.figures.MIN_FONT_PT` is refused with a ``ValueError`` naming it.
        """
        if ENFORCE_MIN_FONT:
            from asn_eval.report.figures import MIN_FONT_PT, smallest_font_pt

            smallest = smallest_font_pt(fig)
            if smallest < MIN_FONT_PT:
                import matplotlib.pyplot as plt

                plt.close(fig)  # refused: it must not linger among the open figures
                number = f"{self.number}.{self._figures.next_number}"
                raise ValueError(
                    f"Figure {number} ({slug!r}, chapter {self.key}) has text that prints at "
                    f"{smallest:.1f} pt, under the {MIN_FONT_PT:g} pt minimum: draw it at its "
                    "final width with asn_eval.report.figures.figure_size and no explicit fontsize "
                    "below the style's."
                )
        saved = self._figures.save(fig, slug, caption)
        self.emitted.append(("figure", saved.caption))
        _display(
            saved._repr_html_(),
            "figure",
            caption=saved.caption,
            anchor=saved.anchor,
            print_src=saved.relative_png,
            width_in=saved.width_in,
        )

    def table(
        self,
        frame: pd.DataFrame,
        slug: str,
        caption: str,
        *,
        labels: dict[str, str] | None = None,
        digits: int | dict[str, int] = 1,
        percent: Sequence[str] = (),
        units: dict[str, str] | None = None,
        intervals: dict[str, tuple[str, str]] | None = None,
        pvalues: Sequence[str] = (),
        ratios: dict[str, tuple[str, str]] | None = None,
        missing_text: dict[str, str] | None = None,
        hidden: Sequence[str] = (),
        names: Sequence[str] = (),
        note: str | None = None,
        display: bool = True,
    ) -> Any:
        """Save ``frame`` as the chapter's next numbered table and show it.

        With ``display=False`` the table is only written (CSV, LaTeX, workbook), e.g. an
        annex too long to print; the saved table is returned so the text can point to it.

        ``frame`` is the table as data (numbers as numbers, shares 0-1, intervals as two
        columns, p-values as numbers; see :class:`asn_eval.report.tables.TableSpec` for the other
        arguments, which say how people see it). Integers are shown without decimals,
        ``percent`` columns as percentages, other numbers with ``digits`` decimals in the
        report's language; cells suppressed by :meth:`suppress` keep their mark. The CSV and
        LaTeX are written under ``output_dir/tables``, the description into the report's
        ``datapackage.json`` (:mod:`asn_eval.report.datapackage`).
        """
        from asn_eval.report.tables import TableSpec

        spec = TableSpec(
            labels=dict(labels or {}),
            digits=digits,
            percent=tuple(percent),
            units=dict(units or {}),
            intervals=dict(intervals or {}),
            pvalues=tuple(pvalues),
            ratios=dict(ratios or {}),
            missing_text=dict(missing_text or {}),
            hidden=tuple(hidden),
            names=tuple(names),
        )
        saved = self._tables.save(frame.reset_index(drop=True), slug, caption, spec=spec, note=note)
        if not display:
            self.emitted.append(("table_file", saved.caption))
            return saved
        self.emitted.append(("table", saved.caption))
        _display(saved._repr_html_(), "table", caption=saved.caption, anchor=saved.anchor)

    # --- privacy ----------------------------------------------------------------------
    def suppress(self, frame: pd.DataFrame, *, count: str, columns: Sequence[str]) -> pd.DataFrame:
        """Replace ``columns`` by :data:`SUPPRESSED` where ``0 < count <`` the minimum cell size.

        The report's one small-cell rule, :func:`asn_eval.domain.privacy.suppress_small_cells`, with
        this chapter's minimum and language; counts themselves stay shown. The returned
        frame's ``attrs["n_suppressed_rows"]`` says whether anything was withheld.
        """
        return privacy.suppress_small_cells(
            frame, count, columns, min_size=self.min_cell_size, mark_count=False
        )

    def suppression_note(self, suppressed: pd.DataFrame | None = None) -> str:
        """The footnote explaining :data:`SUPPRESSED`.

        Given the frame :meth:`suppress` returned, the note is empty when no cell of it was
        withheld, so that the footnote stands only under tables with a suppressed cell.
        """
        if suppressed is not None and not suppressed.attrs.get("n_suppressed_rows", 0):
            return ""
        return narrative.suppression_note(self.lang, self.min_cell_size)
