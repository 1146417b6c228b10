"""The data layer's words in both languages: its errors, rejects.csv and quality.csv.

A :class:`Message` is a key of the catalog (``asn_eval/data/catalog/{en,id}.yaml``) and the
values that fill it; :meth:`Message.text` writes it in either language. The data layer sits
below the report, so it keeps its own catalog rather than the report's templates; the
command line prints a :class:`~asn_eval.data.errors.DataError` in the command's language
with ``error.text(lang)``.

Placeholders are Python format fields, with four language-aware forms:

- ``{rows:n}``: a number with the language's digit grouping (``1.234`` / ``1,234``);
- ``{share:%1}``: a share as a percentage with that many decimals (``12,3%`` / ``12.3%``);
- ``{names:and}``: a list joined with "and" / "dan" (``{names:or}`` with "or" / "atau",
  ``{parts:semi}`` with ``"; "``, a bare ``{parts}`` with ``", "``);
- a value that is itself a :class:`Message` is written in the same language.

Anything else (file, column and sheet names, line numbers, a mapping's literal fix such as
``date_order: mdy``) is written as it is, in both languages.

Examples
--------
>>> Message("word.and").text("id")
'dan'
>>> Message("part.rule_count", rule="invalid_date", count=1234).text("id")
'invalid_date 1.234'
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from asn_eval.common.formatting import check_language, fmt_number, fmt_percent

CATALOG_DIR = Path(__file__).parent / "catalog"
_LIST_SEPARATORS = {"": ", ", "semi": "; "}


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every data-layer text of ``lang``, as a flat mapping ``"group.key" -> text``."""
    check_language(lang)
    with open(CATALOG_DIR / f"{lang}.yaml", encoding="utf-8") as handle:
        return _flatten(yaml.safe_load(handle))


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


class _Formatter(string.Formatter):
    def __init__(self, lang: str):
        super().__init__()
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Message):
            value = value.text(self.lang)
        if isinstance(value, list | tuple):
            if format_spec in ("and", "or"):
                separator = f" {catalog(self.lang)[f'word.{format_spec}']} "
            else:
                separator = _LIST_SEPARATORS[format_spec]
            return separator.join(self.format_field(item, "") for item in value)
        if format_spec == "n":
            return fmt_number(value, self.lang, digits=0)
        if format_spec.startswith("%"):
            return fmt_percent(value, self.lang, digits=int(format_spec[1:]))
        return super().format_field(value, format_spec)


@dataclass(frozen=True)
class Message:
    """A catalog key and its values; ``str()`` is the English text.

    Parameters
    ----------
    key
        Dotted key of the catalog, e.g. ``"table.missing_column"``.
    **values
        The placeholders' values: text and numbers, lists, or other messages.
    """

    key: str
    values: dict[str, Any] = field(default_factory=dict)

    def __init__(self, key: str, /, **values: Any):
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "values", values)

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``"id"`` or ``"en"``), on one line."""
        template = catalog(lang)[self.key]
        return " ".join(_Formatter(lang).vformat(template, (), self.values).split())

    def __str__(self) -> str:
        return self.text("en")


def words(lang: str, group: str) -> dict[str, str]:
    """The texts under ``group`` (e.g. a file's column headers), keyed by their last part."""
    prefix = f"{group}."
    return {k[len(prefix) :]: v for k, v in catalog(lang).items() if k.startswith(prefix)}


def rule_label(rule: str, lang: str) -> str:
    """The name of a validation rule as a table cell says it (``invalid_date`` -> "bukan tanggal
    yang sah" / "not a valid date"); an unknown code is written as it is."""
    return catalog(lang).get(f"rule.{rule}", str(rule).replace("_", " "))
