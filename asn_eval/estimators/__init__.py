"""Causal estimators for staggered policy adoption, validated against reference implementations.

- :func:`att_gt`, :func:`event_study`, :func:`pretrend_test`: Callaway and Sant'Anna (2021)
  group-time effects and their aggregations (matches R's ``did`` on mpdta).
- :func:`twfe`: two-way fixed effects with fixest's CRV1 convention when clustered.
- :func:`bacon_decomposition`: Goodman-Bacon (2021) decomposition of the TWFE coefficient.
- :func:`wild_cluster_bootstrap`, :func:`randomization_inference`: few-cluster inference.
- :func:`interrupted_time_series`: segmented regression for monthly service series.
- :func:`dose_response`, :func:`heterogeneity`: training hours and subgroup effects.
- :func:`adoption_curves`, :func:`kaplan_meier`: time to first use of a digital system.
- :func:`did_imputation`: the imputation estimator of Borusyak, Jaravel and Spiess (2024)
  with their clustered (optionally leave-out) variance.
- :func:`holm`, :func:`romano_wolf`, :func:`romano_wolf_results`, :func:`romano_wolf_twfe`:
  multiple-testing control across a family of estimates (one set of bootstrap draws shared).
- :func:`honest_did`: sensitivity of an event study to violations of parallel trends
  (Rambachan and Roth 2023; HonestDiD's relative-magnitude and smoothness restrictions).
- :func:`estimate_design`, :func:`mde`, :func:`simulated_power`, :func:`mde_by_simulation`:
  power and minimum detectable effect of a staggered roll-out (exact variance of the CS
  overall ATT under an estimated variance model).
- :func:`synthetic_did`, :func:`synthetic_control`, :func:`block_did`: synthetic
  difference-in-differences (Arkhangelsky et al. 2021), synthetic control and DID on a block
  design with placebo or jackknife standard errors (matches R's ``synthdid`` on Prop 99).
"""

from asn_eval.estimators.adoption import adoption_curves, age_band, kaplan_meier
from asn_eval.estimators.bacon import bacon_decomposition
from asn_eval.estimators.did import att_gt, event_study, pretrend_test
from asn_eval.estimators.dose import dose_response, heterogeneity
from asn_eval.estimators.honest import honest_did, honest_did_from_estimates
from asn_eval.estimators.imputation import did_imputation
from asn_eval.estimators.inference import randomization_inference, wild_cluster_bootstrap
from asn_eval.estimators.its import interrupted_time_series
from asn_eval.estimators.multiple import holm, romano_wolf, romano_wolf_results, romano_wolf_twfe
from asn_eval.estimators.power import (
    Design,
    estimate_design,
    mde,
    mde_by_simulation,
    simulated_power,
)
from asn_eval.estimators.synthetic import block_did, synthetic_control, synthetic_did
from asn_eval.estimators.twfe import twfe

__all__ = [
    "Design",
    "adoption_curves",
    "age_band",
    "att_gt",
    "bacon_decomposition",
    "block_did",
    "did_imputation",
    "dose_response",
    "estimate_design",
    "event_study",
    "heterogeneity",
    "holm",
    "honest_did",
    "honest_did_from_estimates",
    "interrupted_time_series",
    "kaplan_meier",
    "mde",
    "mde_by_simulation",
    "pretrend_test",
    "randomization_inference",
    "romano_wolf",
    "romano_wolf_results",
    "romano_wolf_twfe",
    "simulated_power",
    "synthetic_control",
    "synthetic_did",
    "twfe",
    "wild_cluster_bootstrap",
]
