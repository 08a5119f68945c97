"""One local Spark session for the whole test run, with data in and out through Parquet.

Settings that work on a loaded 2-core machine: ``local[2]``, no UI, loopback address,
few shuffle partitions. PySpark warns about pandas >= 3, so nothing goes through
``toPandas()``: results are written as Parquet and read back with DuckDB.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd


def start_session():  # -> pyspark.sql.SparkSession
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", "python3")
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[2]").appName("tagger-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.memory", "1g")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate())


def session() -> Iterator[object]:
    spark = start_session()
    try:
        yield spark
    finally:
        spark.stop()


def run_spark(spark, sql: str, snapshot: Path, out: Path, table: str = "users") -> pd.DataFrame:
    """Run ``sql`` on Spark over the Parquet ``snapshot`` as ``table``; the result comes back via Parquet."""
    spark.read.parquet(str(snapshot)).createOrReplaceTempView(table)
    spark.sql(sql.rstrip().rstrip(";")).coalesce(1).write.mode("overwrite").parquet(str(out))
    with duckdb.connect() as con:
        return con.execute(f"SELECT * FROM read_parquet('{out}/*.parquet')").df()
