"""One look for every figure, and figure files whose bytes do not change between runs.

:func:`use_style` applies the report's single seaborn theme, a palette that prints and is
colour-blind safe (:data:`PALETTE`, after Okabe and Ito, 2008, "Color Universal Design") and a
fixed type scale for print; :func:`series_style` gives many series a colour and a marker each,
and :func:`wrap_label` breaks a long label (an agency's name) onto lines between words.

Figures are drawn at their final printed size: :func:`figure_size` gives the width of the
A4 text column (:data:`FULL_WIDTH`) or half of it (:data:`HALF_WIDTH`), and the report shows
each saved PNG at the width it was saved at (``SavedFigure._repr_html_`` writes that width in
inches; the stylesheet caps it at the text width). So a label set in 7.5 pt prints at
7.5 pt, and :func:`smallest_font_pt` measures the smallest text of a figure as printed.
No text is smaller than :data:`MIN_FONT_PT`.

:func:`save_figure` writes
``figures/<chapter>-<number>_<slug>.png`` at print resolution (300 dpi) and ``.svg``
with every run-dependent byte switched off (creation date, software stamp, random SVG ids),
so that the committed notebooks, whose outputs CI compares, stay identical run after run.
:class:`FigureRegistry` numbers a chapter's figures in order and writes their captions
("Gambar 3.2. ..." in Indonesian, "Figure 3.2. ..." in English).

Examples
--------
>>> import matplotlib.pyplot as plt
>>> use_style()
>>> fig, ax = plt.subplots()
>>> registry = FigureRegistry("reports/out", chapter=3, lang="en")  # doctest: +SKIP
>>> saved = registry.save(fig, "event_study", "Event study of training on SKP")  # doctest: +SKIP
>>> saved.caption  # doctest: +SKIP
'Figure 3.1. Event study of training on SKP'
"""

from __future__ import annotations

import base64
import re
import struct
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.text import Text

from asn_eval.common.formatting import DEFAULT_LANGUAGE, check_language

# The report's colours, for print: every one has a contrast of at least 3:1 against white
# paper (WCAG 2.1's minimum for graphics), so no line fades on a grey laser print, and they
# stay apart for readers with red-green or blue-yellow colour blindness
# (tests/report/test_figures_tables.py measures both). Okabe and Ito's (2008) darker five,
# with their three pale ones (orange #E69F00, sky blue #56B4E9, yellow #F0E442) replaced
# by darker colours of other hues: wine and indigo from Paul Tol's "muted" scheme, and a brown.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue (Okabe-Ito)
    "#D55E00",  # vermillion (Okabe-Ito)
    "#009E73",  # bluish green (Okabe-Ito)
    "#882255",  # wine (Tol)
    "#CC79A7",  # reddish purple (Okabe-Ito)
    "#332288",  # indigo (Tol)
    "#6F4E37",  # brown
    "#000000",  # black
)
# A marker for each colour, so that many series (eight agency types) stay apart in grey too.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
# Colours with a fixed meaning across the report.
TREATED_COLOUR = PALETTE[0]
COMPARISON_COLOUR = PALETTE[1]
ZERO_LINE_COLOUR = "#555555"
# Print resolution: 300 dpi is the usual minimum for raster figures in printed reports.
PRINT_DPI = 300
DEFAULT_FORMATS: tuple[str, ...] = ("png", "svg")
# Fixed salt so SVG element ids are the same in every run (matplotlib otherwise draws them at
# random).
SVG_HASH_SALT = "asn-eval"
# Widths on the printed A4 page, in inches. The report's text column is 174 mm (A4 210 mm
# less two 18 mm page margins, report.css) less the body's 1rem padding on each side
# (2 x 10.5 pt), 166.6 mm = 6.56 in. A full-width figure is drawn a little narrower, so that
# the whitespace savefig(bbox_inches="tight") adds (0.1 in a side) still fits.
TEXT_WIDTH = 6.56
FULL_WIDTH = 6.3
HALF_WIDTH = 3.1  # two of them side by side leave 0.1 in between
# Height / width of a figure unless a plot asks for another shape.
DEFAULT_ASPECT = 0.6
# Type scale in points at the printed size (= the drawn size, see the module docstring).
# Nothing is printed under MIN_FONT_PT: below 7 pt text is hard to read on paper.
MIN_FONT_PT = 7.0
FONT_PT: dict[str, float] = {
    "base": 8.0,  # annotations and any text without a role
    "label": 8.0,  # axis labels
    "tick": 7.5,  # tick labels
    "legend": 7.5,
    "title": 9.0,  # axes and figure titles
}
# Uncertainty bands must be visible on paper and in grey print.
BAND_ALPHA = 0.25
# Characters a line of a category label (an agency's name on a tick) holds before it wraps:
# at 7.5 pt, about 1.9 in, a third of a full-width figure.
LABEL_WRAP_CHARS = 32
_CAPTION_WORD = {"id": "Gambar", "en": "Figure"}
# Metadata keys that would otherwise stamp each file with the run's date or software version.
_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_SPACES = re.compile(r"[ \t\n\r\f\v]+")


def figure_size(width: str | float = "full", *, aspect: float = DEFAULT_ASPECT) -> tuple:
    """Figure size ``(width, height)`` in inches for its final place on the page.

    Parameters
    ----------
    width
        ``"full"`` (:data:`FULL_WIDTH`, the text column), ``"half"`` (:data:`HALF_WIDTH`) or
        a width in inches no wider than the column.
    aspect
        Height divided by width.

    Examples
    --------
    >>> figure_size("half", aspect=0.8)
    (3.1, 2.48)
    """
    widths = {"full": FULL_WIDTH, "half": HALF_WIDTH}
    if isinstance(width, str):
        if width not in widths:
            raise ValueError(f"width must be 'full', 'half' or inches; got {width!r}.")
        inches = widths[width]
    else:
        inches = float(width)
        if not 0 < inches <= FULL_WIDTH:
            raise ValueError(
                f"A figure {inches} in wide does not fit the {FULL_WIDTH} in text column; "
                "the report would shrink it and its text with it."
            )
    if aspect <= 0:
        raise ValueError(f"aspect must be positive; got {aspect!r}.")
    return (inches, round(inches * aspect, 4))


FIGURE_SIZE = figure_size("full")

STYLE_RC: dict[str, object] = {
    "figure.figsize": FIGURE_SIZE,
    "figure.dpi": 100,
    "savefig.dpi": PRINT_DPI,
    "savefig.bbox": "tight",
    "svg.hashsalt": SVG_HASH_SALT,
    # DejaVu Sans ships with matplotlib, so every machine renders the same glyphs.
    "font.family": "DejaVu Sans",
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "font.size": FONT_PT["base"],
    "axes.labelsize": FONT_PT["label"],
    "axes.titlesize": FONT_PT["title"],
    "figure.titlesize": FONT_PT["title"],
    "xtick.labelsize": FONT_PT["tick"],
    "ytick.labelsize": FONT_PT["tick"],
    "legend.fontsize": FONT_PT["legend"],
    "legend.title_fontsize": FONT_PT["legend"],
}


def use_style() -> None:
    """Apply the report's seaborn theme, colour-blind-safe palette and type scale."""
    # The "paper" context sets line widths for print; STYLE_RC then fixes the type scale.
    sns.set_theme(context="paper", style="whitegrid", palette=list(PALETTE), rc=STYLE_RC)


def series_style(i: int) -> dict[str, str]:
    """Colour and marker of the ``i``-th of many series (lines of a plot), as keywords of
    ``Axes.plot``: :data:`PALETTE` and :data:`MARKERS` in step, so each series differs from
    the others in both.

    Examples
    --------
    >>> series_style(1)
    {'color': '#D55E00', 'marker': 's'}
    """
    return {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)]}


def wrap_label(text: str, width: int = LABEL_WRAP_CHARS) -> str:
    """``text`` broken onto lines of at most ``width`` characters between words, never cut
    and never split inside a word (a word longer than ``width`` keeps a line of its own).
    Words joined by a no-break space (U+00A0) stay on one line.

    Examples
    --------
    >>> print(wrap_label("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu"))
    Dinas Penanaman Modal dan
    Pelayanan Terpadu Satu Pintu
    """
    words = _SPACES.sub(" ", str(text)).strip()  # ASCII spaces only: U+00A0 binds
    lines = textwrap.wrap(words, width, break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines) or words


def saved_size(fig: plt.Figure, *, dpi: float = PRINT_DPI) -> tuple[float, float]:
    """Width and height in inches of ``fig`` as :func:`save_figure` writes it at ``dpi``.

    ``bbox_inches="tight"`` crops (or extends) the canvas to the drawn artists plus
    ``savefig.pad_inches`` on each side; it never rescales, so fonts keep their size. Text
    extents depend slightly on the resolution, so they are measured at ``dpi``.
    """
    screen_dpi = fig.dpi
    try:
        fig.set_dpi(dpi)
        box = fig.get_tightbbox(fig.canvas.get_renderer())
    finally:
        fig.set_dpi(screen_dpi)
    pad = float(matplotlib.rcParams["savefig.pad_inches"])
    return (float(box.width) + 2 * pad, float(box.height) + 2 * pad)


def smallest_font_pt(fig: plt.Figure, *, text_width: float = TEXT_WIDTH) -> float:
    """Smallest font size, in points, of any visible text of ``fig`` as printed in the report.

    Every :class:`~matplotlib.text.Text` artist that is visible and not empty counts (titles,
    axis labels, tick labels, legend entries, annotations). The report shows a figure at the
    width it is saved at (:func:`saved_size`), capped at ``text_width``; a wider figure is
    scaled down, and its text with it, so sizes are multiplied by
    ``min(1, text_width / saved width)``.

    Returns
    -------
    float
        ``inf`` for a figure without text.
    """
    fig.canvas.draw()  # creates tick labels and places the legends
    sizes = [
        float(text.get_fontsize())
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    if not sizes:
        return float("inf")
    scale = min(1.0, text_width / saved_size(fig)[0])
    return min(sizes) * scale


# Resolution of the copy a notebook shows: sharp on a screen, a tenth of the print file's
# bytes; the report prints from the PRINT_DPI file.
SCREEN_DPI = 110


def screen_png(path: Path, width_in: float | None = None) -> bytes:
    """The PNG at ``path`` resampled to :data:`SCREEN_DPI` (bytes, no metadata, so the same
    input gives the same bytes)."""
    import io

    from PIL import Image

    with Image.open(path) as image:
        scale = SCREEN_DPI / PRINT_DPI
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        small = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        # 256 colours are plenty for a chart on a screen and cut the bytes about threefold.
        small = small.quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        out = io.BytesIO()
        small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _png_width_in(path: Path, dpi: float) -> float:
    """Width in inches of a PNG written at ``dpi`` (read from its IHDR header)."""
    with open(path, "rb") as handle:
        header = handle.read(24)
    return struct.unpack(">I", header[16:20])[0] / dpi


def figure_caption(chapter: int | str, number: int, text: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Numbered caption: ``"Gambar 3.2. text"`` (id) or ``"Figure 3.2. text"`` (en)."""
    check_language(lang)
    return f"{_CAPTION_WORD[lang]} {chapter}.{number}. {text}"


def figure_stem(chapter: int | str, number: int, slug: str) -> str:
    """File name without extension: ``"3-2_event_study"``."""
    if not _SLUG.match(slug):
        raise ValueError(
            f"Figure slug {slug!r} must be lower-case letters and digits joined by '_' or '-', "
            "e.g. 'event_study_skp', so that file names are the same on every system."
        )
    if int(number) < 1:
        raise ValueError(f"Figure numbers start at 1 within a chapter; got {number!r}.")
    return f"{chapter}-{int(number)}_{slug}"


def figure_html(
    png: bytes,
    *,
    caption: str,
    width_in: float | None,
    print_src: str | None = None,
    anchor: str | None = None,
) -> str:
    """A figure's HTML: the PNG embedded as a data URI at ``width_in`` inches, its caption
    under it. The notebook shows the screen copy with ``print_src``; the report the print
    file with the caption's ``anchor``."""
    data = base64.b64encode(png).decode("ascii")
    width = f"width:{width_in:.2f}in;" if width_in else ""
    source = f' data-print-src="{escape(print_src)}"' if print_src else ""
    ident = f' id="{anchor}"' if anchor else ""
    return (
        '<figure style="margin:0 0 1em 0">'
        f'<img src="data:image/png;base64,{data}" alt="{escape(caption)}"{source} '
        f'style="{width}max-width:100%">'
        f"<figcaption{ident}>{escape(caption)}</figcaption></figure>"
    )


@dataclass(frozen=True)
class SavedFigure:
    """A figure written to disk, with its number and caption.

    Displaying it in a notebook shows the saved PNG with its caption (HTML), so the output
    is the same bytes as the file, at ``width_in`` inches: the size it was drawn at, so that
    its text prints at the size it was set in (the stylesheet caps it at the text width).
    """

    paths: dict[str, Path]
    chapter: str
    number: int
    caption: str
    relative_png: str
    width_in: float | None = None

    @property
    def png(self) -> Path:
        return self.paths["png"]

    @property
    def anchor(self) -> str | None:
        """The figure's anchor in the report (``fig-3-2``), from its registry number; none
        for a figure without a caption, which the list of figures leaves out."""
        return f"fig-{self.chapter}-{self.number}" if self.caption else None

    def _repr_html_(self) -> str:
        """The figure at screen resolution (:data:`SCREEN_DPI`), so notebooks stay small;
        ``data-print-src`` names the print file, which the report document prints instead
        (from the chapter's label, asn_eval.report.labels)."""
        return figure_html(
            screen_png(self.png, self.width_in),
            caption=self.caption,
            width_in=self.width_in,
            print_src=self.relative_png,
        )

    def __repr__(self) -> str:
        # No absolute paths or memory addresses: notebook outputs must match across machines.
        return f"{self.caption} ({self.relative_png})"


def save_figure(
    fig: plt.Figure,
    output_dir: str | Path,
    chapter: int | str,
    number: int,
    slug: str,
    *,
    caption: str = "",
    lang: str = DEFAULT_LANGUAGE,
    formats: Sequence[str] = DEFAULT_FORMATS,
    dpi: int = PRINT_DPI,
    close: bool = True,
) -> SavedFigure:
    """Write ``figures/<chapter>-<number>_<slug>.<fmt>`` deterministically.

    Parameters
    ----------
    fig
        The matplotlib figure.
    output_dir
        The report's output folder; files go to its ``figures/`` subfolder.
    chapter, number
        Chapter and figure number within the chapter (from 1).
    slug
        Short file-name label, lower case with ``_`` or ``-``.
    caption
        Caption text without the number; the numbered caption is built for ``lang``.
    lang
        ``"id"`` or ``"en"``.
    formats
        Any of ``"png"``, ``"svg"``, ``"pdf"``. PNG is always written (notebooks show it).
    dpi
        Raster resolution for PNG.
    close
        Close the figure after saving, so Jupyter's inline backend does not show it a
        second time at the end of the cell.

    Returns
    -------
    SavedFigure
    """
    check_language(lang)
    formats = tuple(dict.fromkeys(("png", *formats)))
    unknown = sorted(set(formats) - set(_METADATA))
    if unknown:
        raise ValueError(f"Unsupported figure format(s) {unknown}: use png, svg or pdf.")
    stem = figure_stem(chapter, number, slug)
    folder = Path(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
        for fmt in formats:
            path = folder / f"{stem}.{fmt}"
            fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_METADATA[fmt])
            paths[fmt] = path
    if close:
        plt.close(fig)
    return SavedFigure(
        paths=paths,
        chapter=str(chapter),
        number=int(number),
        caption=figure_caption(chapter, number, caption, lang) if caption else "",
        relative_png=f"figures/{stem}.png",
        width_in=round(_png_width_in(paths["png"], dpi), 2),
    )


class FigureRegistry:
    """Numbers one chapter's figures in the order they are saved.

    Parameters
    ----------
    output_dir
        The report's output folder.
    chapter
        Chapter number (1-5).
    lang
        Language of the captions.
    """

    def __init__(self, output_dir: str | Path, chapter: int | str, lang: str = DEFAULT_LANGUAGE):
        self.output_dir = Path(output_dir)
        self.chapter = chapter
        self.lang = check_language(lang)
        self.figures: list[SavedFigure] = []

    @property
    def next_number(self) -> int:
        return len(self.figures) + 1

    def save(self, fig: plt.Figure, slug: str, caption: str, **kwargs) -> SavedFigure:
        """Save ``fig`` as the chapter's next figure (keywords go to :func:`save_figure`)."""
        saved = save_figure(
            fig,
            self.output_dir,
            self.chapter,
            self.next_number,
            slug,
            caption=caption,
            lang=self.lang,
            **kwargs,
        )
        self.figures.append(saved)
        return saved
