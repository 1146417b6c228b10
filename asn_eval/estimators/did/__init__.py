"""Callaway and Sant'Anna (2021) group-time average treatment effects and event studies.

Staggered adoption (agencies adopting a policy in different years) breaks the static two-way
fixed effects regression when effects change over time or differ between adoption cohorts:
already-treated units end up as controls. Callaway and Sant'Anna (2021) instead estimate one
clean 2x2 comparison per adoption cohort ``g`` and period ``t``, ATT(g, t), against units not
(yet) treated, and then average these with explicit weights ("simple", "dynamic", "group",
"calendar"). The defaults follow R's ``did`` package (``att_gt``/``aggte``): never-treated
controls, varying base period, no anticipation, analytic standard errors from the influence
function (or a multiplier bootstrap with Rademacher weights), doubly robust (Sant'Anna and Zhao
2020) 2x2 estimates when covariates are given.

The computation works on a wide ``units x periods`` array and on influence functions summed
within clusters, so that it is vectorised over units (no Python loop over units; one loop over
the few (g, t) cells) and scales to national panels.

The package follows the seams of R's did: :mod:`.preprocess` (long panel to wide arrays,
``pre_process_did``), :mod:`.compute` (the 2x2 ATT(g, t) and influence function of one cell,
``compute.att_gt``), :mod:`.grouptime` (:func:`att_gt`), :mod:`.bootstrap` (analytic and
multiplier-bootstrap standard errors, ``mboot``), :mod:`.aggregate` (``aggte``),
:mod:`.pretrend` (:func:`pretrend_test`), :mod:`.eventstudy` (:func:`event_study`, with its TWFE
variant) and :mod:`.results` (the result objects). The public names are exported here;
helpers stay in their modules.

References
----------
Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences estimators.
Journal of Econometrics 219(1), 101-122.
"""

from asn_eval.estimators.did.aggregate import AGGREGATIONS
from asn_eval.estimators.did.bootstrap import BOOT_WEIGHTS, FEW_CLUSTERS_WEBB
from asn_eval.estimators.did.eventstudy import event_study
from asn_eval.estimators.did.grouptime import att_gt
from asn_eval.estimators.did.preprocess import BASE_PERIODS, CONTROL_GROUPS
from asn_eval.estimators.did.pretrend import MIN_CLUSTERS_PRETREND, pretrend_test
from asn_eval.estimators.did.results import (
    METHOD_NAME,
    AggregateResult,
    EventStudyResult,
    GroupTimeResult,
    PretrendTest,
)

__all__ = [
    "AGGREGATIONS",
    "BASE_PERIODS",
    "BOOT_WEIGHTS",
    "CONTROL_GROUPS",
    "FEW_CLUSTERS_WEBB",
    "METHOD_NAME",
    "MIN_CLUSTERS_PRETREND",
    "AggregateResult",
    "EventStudyResult",
    "GroupTimeResult",
    "PretrendTest",
    "att_gt",
    "event_study",
    "pretrend_test",
]
