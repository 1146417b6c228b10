"""The five chapters of the annual report, one module each, opened from a notebook.

Examples
--------
In a chapter notebook (parameters ``data_dir, year, lang, seed, output_dir``)::

    from asn_eval.report.chapters import open_chapter
    ch = open_chapter("impact", data_dir=data_dir, year=year, lang=lang, seed=seed,
                      output_dir=output_dir)
    ch.heading()
    ch.show("event_study")
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from asn_eval.config import CHAPTERS, DEFAULT_SEED
from asn_eval.report.chapters.base import CACHE_DIR, Chapter, load_dataset_cached


def chapter_class(name: str) -> type[Chapter]:
    """The class of chapter ``name``, a key of :data:`asn_eval.config.CHAPTERS`."""
    keys = [key for _, key in CHAPTERS]
    if name not in keys:
        raise ValueError(f"Unknown chapter {name!r}; the chapters are {', '.join(keys)}.")
    return getattr(import_module(f"asn_eval.report.chapters.{name}"), name.capitalize())


def open_chapter(
    name: str,
    *,
    data_dir: str | Path,
    year: int | None = None,
    lang: str = "id",
    seed: int = DEFAULT_SEED,
    output_dir: str | Path = ".",
    dataset: Any = None,
    cache: bool = True,
    **options: Any,
) -> Chapter:
    """Load the data (once per process) and return chapter ``name`` ready to show.

    Parameters
    ----------
    name
        ``"introduction"``, ``"policies"``, ``"impact"``, ``"challenges"`` or ``"conclusion"``.
    data_dir
        Folder with the data tables (read with :func:`asn_eval.data.load_dataset`).
    year, lang, seed, output_dir
        The notebook parameters: report year, ``"id"``/``"en"``, random seed, report folder.
    dataset
        An already loaded dataset (tests); ``data_dir`` is then not read.
    cache
        Also keep the loaded, pseudonymised dataset in :data:`CACHE_DIR` (a private folder
        under the system's temporary directory, never inside the report folder, which
        people share), keyed by the hashes of the data files, for the other chapters.
    options
        Passed to the chapter: ``spec`` (an :class:`asn_eval.analysis.AnalysisSpec`, which
        then decides year, seed and the small-cell limit), ``results`` (the chapter's
        analysis results, when the notebook computed them), ``min_cell_size``.
    """
    cls = chapter_class(name)
    if dataset is None:
        cache_dir = CACHE_DIR if cache else None
        dataset = load_dataset_cached(data_dir, cache_dir=cache_dir)
    return cls(dataset, year=year, lang=lang, seed=seed, output_dir=output_dir, **options)


def load_data(data_dir: str | Path, *, cache: bool = True) -> Any:
    """The validated, pseudonymised dataset of ``data_dir``, loaded once per data version."""
    return load_dataset_cached(data_dir, cache_dir=CACHE_DIR if cache else None)


__all__ = ["Chapter", "chapter_class", "load_data", "open_chapter"]
