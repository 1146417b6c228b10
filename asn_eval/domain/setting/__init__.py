"""The report's setting, read from a context file with a source for every statement.

``kupang.yaml`` describes Kota Kupang, the four policies, the questions the report asks and
the challenges the source article names, in Indonesian and English. Chapters show these
statements with their sources instead of prose typed into a notebook.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTEXT_FILE = Path(__file__).with_name("kupang.yaml")
LIST_SECTIONS = ("setting", "questions", "challenges")


@cache
def load_context(path: str | Path = CONTEXT_FILE) -> dict[str, Any]:
    """The context file as a dictionary (cached)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def statements(section: str, lang: str) -> list[tuple[str, str]]:
    """``(statement, source)`` pairs of a list section (setting, questions, challenges)."""
    if section not in LIST_SECTIONS:
        raise ValueError(
            f"Unknown context section {section!r}; choose one of {', '.join(LIST_SECTIONS)}."
        )
    return [(item[lang].strip(), item["source"].strip()) for item in load_context()[section]]


def policy(policy_key: str, lang: str) -> dict[str, str]:
    """Name, statement and source of one policy (keys as in
    :data:`asn_eval.analysis.panels.POLICIES`)."""
    item = load_context()["policies"][policy_key]
    return {
        "name": item["name"][lang],
        "statement": item["statement"][lang].strip(),
        "source": item["source"].strip(),
    }


def owner(policy_key: str, lang: str) -> dict[str, str]:
    """The office responsible for acting on ``policy_key``'s decision (the ``owners`` table
    of the context file): ``code`` (as ``results.json`` stores it) and ``name`` in ``lang``."""
    owners = load_context().get("owners") or {}
    if policy_key not in owners:
        raise KeyError(
            f"No owner is set for policy {policy_key!r}; add it to the 'owners' table of "
            f"{CONTEXT_FILE}."
        )
    item = owners[policy_key]
    return {"code": str(item["code"]), "name": str(item[lang]).strip()}
