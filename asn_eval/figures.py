"""One look for every figure, and figure files whose bytes do not change between runs.

:func:`use_style` applies the report's single seaborn theme and a colour-blind-safe palette
(Okabe and Ito, 2008, "Color Universal Design"). :func:`save_figure` writes
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
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import seaborn as sns

from asn_eval.formatting import DEFAULT_LANGUAGE, check_language

# Okabe-Ito palette: distinguishable with all common colour-vision deficiencies and in grey.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
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
FIGURE_SIZE = (6.4, 4.0)  # inches; fits an A4 text column at 300 dpi
_CAPTION_WORD = {"id": "Gambar", "en": "Figure"}
# Metadata keys that would otherwise stamp each file with the run's date or software version.
_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")

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
}


def use_style() -> None:
    """Apply the report's seaborn theme and colour-blind-safe palette to all later figures."""
    sns.set_theme(context="notebook", style="whitegrid", palette=list(PALETTE), rc=STYLE_RC)


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


@dataclass(frozen=True)
class SavedFigure:
    """A figure written to disk, with its number and caption.

    Displaying it in a notebook shows the saved PNG with its caption (HTML), so the output
    is the same bytes as the file.
    """

    paths: dict[str, Path]
    chapter: str
    number: int
    caption: str
    relative_png: str

    @property
    def png(self) -> Path:
        return self.paths["png"]

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png.read_bytes()).decode("ascii")
        return (
            '<figure style="margin:0 0 1em 0">'
            f'<img src="data:image/png;base64,{data}" alt="{escape(self.caption)}" '
            'style="max-width:100%">'
            f"<figcaption>{escape(self.caption)}</figcaption></figure>"
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
