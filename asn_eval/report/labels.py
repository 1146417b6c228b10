"""Labels on what a chapter shows, so that the report document takes each piece by its label.

A chapter displays every heading, paragraph, figure, table and the executive summary through
:func:`show`, which writes a label into the output's metadata (``metadata["asn_eval"]``), much
as Quarto finds a cell's output by its label. The label names the piece's ``kind`` and carries
what the document needs: a heading's level, text and anchor; a figure's numbered caption,
print file and anchor; a table's numbered caption and anchor. Numbers and anchors are decided
once, where the piece is made (the chapter numbers its sections and headings, the figure and
table registries their figures and tables); :mod:`asn_eval.report.document` reads the labels
and never parses the chapters' HTML.
"""

from __future__ import annotations

import html
from typing import Any

KEY = "asn_eval"
# heading: a chapter title, section heading or subheading; text: paragraphs, lists, notices;
# figure, table: numbered and listed after the contents; summary: printed after the cover.
KINDS = ("heading", "text", "figure", "table", "summary")


def show(html_text: str, kind: str, **fields: Any) -> None:
    """Display ``html_text`` in the notebook, labelled ``kind`` with ``fields`` (JSON values)."""
    from IPython.display import HTML, display

    if kind not in KINDS:
        raise ValueError(f"Unknown piece {kind!r}: a label's kind is one of {', '.join(KINDS)}.")
    display(HTML(html_text), metadata={KEY: {"kind": kind, **fields}})


def label_of(output: dict) -> dict:
    """The label of one notebook output; empty for an output no chapter labelled."""
    return dict(output.get("metadata", {}).get(KEY, {}))


def heading_html(level: int, text: str, anchor: str | None = None) -> str:
    """``<h2>text</h2>``; with ``anchor``, ``<h2 id="anchor">`` as the report prints it."""
    ident = f' id="{anchor}"' if anchor else ""
    return f"<h{level}{ident}>{html.escape(text)}</h{level}>"
