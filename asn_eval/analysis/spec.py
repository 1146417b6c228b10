"""The analysis options of one report run, in one frozen object.

Papermill fills a chapter notebook's parameters cell; the notebook turns those parameters
into an :class:`AnalysisSpec` and hands it to the analysis functions, so every option that
decides a number (control group, base period, number of draws, confidence level, small-cell
limit, seed) is visible in one place and travels as one value. ``asn-eval report --param
name=value`` sets a field for a whole run (:func:`parse_params` checks the names and values).

Examples
--------
>>> spec = AnalysisSpec(year=2025, control_group="notyet", n_boot=499)
>>> spec.control_group, spec.n_boot, spec.level
('notyet', 499, 0.95)
>>> parse_params(["control_group=notyet", "n_boot=199"])
{'control_group': 'notyet', 'n_boot': 199}
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from asn_eval.config import DEFAULT_SEED
from asn_eval.domain.regulations import MIN_CELL_SIZE
from asn_eval.estimators.did import BASE_PERIODS, CONTROL_GROUPS, FEW_CLUSTERS_WEBB


@dataclass(frozen=True)
class AnalysisSpec:
    """Options that decide the report's numbers.

    Parameters
    ----------
    year
        Report year: the last year analysed.
    seed
        Seed of every random draw (multiplier bootstrap, wild bootstrap, permutations).
    control_group
        Comparison agencies of the Callaway-Sant'Anna estimator: ``"never"`` (agencies that
        never adopt the policy, R did's default) or ``"notyet"`` (also agencies that adopt
        later, before they adopt).
    base_period
        Base period of the event study: ``"universal"`` (every event time against the year
        before adoption, so event time -1 is zero by construction; the default here, as
        Roth 2024 recommends for plots) or ``"varying"`` (R did's default: pre-period
        effects compare consecutive years). Post-adoption effects, and so the overall ATT,
        are the same under both.
    anticipation
        Years before adoption in which agencies may already react (0: none).
    n_boot
        Draws of the multiplier bootstrap (uniform event-study bands) and of the wild cluster
        bootstrap (few-cluster p-value of TWFE).
    n_perm
        Permutations of adoption years for the randomization-inference p-value.
    level
        Confidence level of every interval.
    min_cell_size
        Statistics from fewer employees than this are suppressed (see
        :data:`asn_eval.domain.regulations.MIN_CELL_SIZE`).
    """

    year: int
    seed: int = DEFAULT_SEED
    control_group: str = "never"
    base_period: str = "universal"
    anticipation: int = 0
    n_boot: int = 999
    n_perm: int = 199
    level: float = 0.95
    min_cell_size: int = MIN_CELL_SIZE

    def __post_init__(self) -> None:
        problems = []
        if self.control_group not in CONTROL_GROUPS:
            problems.append(
                f"control_group must be one of {', '.join(CONTROL_GROUPS)}, "
                f"not {self.control_group!r}"
            )
        if self.base_period not in BASE_PERIODS:
            problems.append(
                f"base_period must be one of {', '.join(BASE_PERIODS)}, not {self.base_period!r}"
            )
        if not 0 < float(self.level) < 1:
            problems.append(f"level must lie between 0 and 1 (e.g. 0.95), not {self.level!r}")
        for name in ("n_boot", "n_perm", "anticipation"):
            if int(getattr(self, name)) < 0:
                problems.append(f"{name} must be 0 or more, not {getattr(self, name)!r}")
        if int(self.min_cell_size) < 1:
            problems.append(f"min_cell_size must be 1 or more, not {self.min_cell_size!r}")
        if problems:
            raise ValueError("Invalid analysis option: " + "; ".join(problems) + ".")

    @property
    def event_reference(self) -> int | None:
        """``reference=`` of :func:`~asn_eval.estimators.event_study` for ``base_period``:
        the universal base period ``g - 1 - anticipation`` (R did's with ``anticipation``),
        or None (varying)."""
        return -1 - int(self.anticipation) if self.base_period == "universal" else None

    def years(self, dataset: Any) -> list[int]:
        """The dataset's years up to the report year."""
        years = [int(y) for y in dataset.years if int(y) <= int(self.year)]
        return years or [int(y) for y in dataset.years]



def bootstrap_weights(n_clusters: int) -> str:
    """Rademacher weights (R did's and the wild bootstrap's default), or Webb's six-point
    weights below :data:`~asn_eval.estimators.did.FEW_CLUSTERS_WEBB` clusters, where
    Rademacher allows only 2**G distinct draws (Webb 2023); the result objects name the
    weights used."""
    return "webb" if n_clusters < FEW_CLUSTERS_WEBB else "rademacher"


# Fields a user may set with ``--param``; year and seed have their own command-line options.
TUNABLE = tuple(f.name for f in fields(AnalysisSpec) if f.name not in ("year", "seed"))


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["name=value", ...]`` -> typed values for :class:`AnalysisSpec` fields.

    Raises ValueError with a one-line message naming the item when a name is unknown or a
    value has the wrong type or range.
    """
    types = {f.name: f.type for f in fields(AnalysisSpec)}
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name:
            raise ValueError(f"--param expects NAME=VALUE, got {item!r}.")
        if name not in TUNABLE:
            raise ValueError(
                f"--param {name}: unknown analysis option; the options are "
                f"{', '.join(TUNABLE)} (see the parameters cell of notebooks/03_impact.ipynb)."
            )
        kind = types[name]
        try:
            value: Any = int(raw) if kind == "int" else float(raw) if kind == "float" else raw
        except ValueError:
            what = "a whole number" if kind == "int" else "a number"
            raise ValueError(f"--param {name}={raw}: {name} takes {what}.") from None
        out[name] = value
    AnalysisSpec(year=2000, **out)  # range checks, with the option's own message
    return out
