"""Indonesian civil-service measures: SKP predicates, IKM, IP ASN, the 20 JP minimum, discipline.

Officers compute these by hand every year and get band edges and weights wrong; here each
rule is one vectorised function whose figures come from :mod:`asn_eval.domain.regulations` (with
the regulation named there), so a correction made there reaches every table and report.
The analysis panels (:mod:`asn_eval.analysis.panels`) and the chapters compute every measure through
these functions: there is one implementation of each.

Public API (one module per index)
---------------------------------
- :mod:`~asn_eval.indices.skp`: :func:`skp_predicate` and :func:`skp_band`, the SKP predicate
  (PermenPANRB 6/2022 matrix) and the PP 46/2011 band of a score, as ordered categoricals;
  :func:`skp_good`, "Baik or better".
- :mod:`~asn_eval.indices.ikm`: :func:`ikm`, :func:`ikm_grade` and :func:`krejcie_morgan`,
  Indeks Kepuasan Masyarakat (PermenPANRB 14/2017).
- :mod:`~asn_eval.indices.ip_asn`: :func:`ip_asn`, :func:`ip_asn_inputs`,
  :func:`ip_asn_points` and :func:`ip_asn_level`, Indeks Profesionalitas ASN (Peraturan BKN
  8/2019).
- :mod:`~asn_eval.indices.training`: :func:`training_hours`, :func:`jp_by_employee_year` and
  :func:`meets_jp_minimum`, JP per employee and year against the 20 JP minimum.
- :mod:`~asn_eval.indices.discipline`: :func:`discipline_sanction`, the PP 94/2021 sanction
  for unexcused absence days, and :func:`sanctioned`.

Bad input raises :class:`ValueError` naming the column, the value and the row, never a
silent NaN. Missing input (NaN) gives missing output.
"""

from __future__ import annotations

from asn_eval.indices.discipline import (
    DISMISSAL_CONSECUTIVE_DAYS,
    SANCTION_LEVEL_DTYPE,
    Sanction,
    discipline_sanction,
    sanctioned,
)
from asn_eval.indices.ikm import (
    IKM_GRADE_DTYPE,
    IKM_GRADE_LABELS,
    IKM_ITEMS,
    IkmResult,
    SmallSampleWarning,
    ikm,
    ikm_grade,
    krejcie_morgan,
)
from asn_eval.indices.ip_asn import (
    IP_ASN_LEVEL_DTYPE,
    IpAsnResult,
    ip_asn,
    ip_asn_inputs,
    ip_asn_level,
    ip_asn_points,
)
from asn_eval.indices.skp import (
    PP46_PREDICATE_DTYPE,
    SKP_PREDICATE_DTYPE,
    skp_band,
    skp_good,
    skp_predicate,
)
from asn_eval.indices.training import (
    TRAINING_TYPES,
    TrainingHours,
    jp_by_employee_year,
    meets_jp_minimum,
    training_hours,
)

__all__ = [
    "DISMISSAL_CONSECUTIVE_DAYS",
    "IKM_GRADE_DTYPE",
    "IKM_GRADE_LABELS",
    "IKM_ITEMS",
    "IP_ASN_LEVEL_DTYPE",
    "PP46_PREDICATE_DTYPE",
    "SANCTION_LEVEL_DTYPE",
    "SKP_PREDICATE_DTYPE",
    "TRAINING_TYPES",
    "IkmResult",
    "IpAsnResult",
    "Sanction",
    "SmallSampleWarning",
    "TrainingHours",
    "discipline_sanction",
    "ikm",
    "ikm_grade",
    "ip_asn",
    "ip_asn_inputs",
    "ip_asn_level",
    "ip_asn_points",
    "jp_by_employee_year",
    "krejcie_morgan",
    "meets_jp_minimum",
    "sanctioned",
    "skp_band",
    "skp_good",
    "skp_predicate",
    "training_hours",
]
