"""Placing rows on Spark tasks: keys that land in partitions of their own."""
from __future__ import annotations

from typing import TYPE_CHECKING, List

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["one_partition_each"]


def one_partition_each(spark: SparkSession, n: int) -> List[int]:
    """``n`` int keys that ``repartition(n, key)`` sends to ``n`` different partitions (one task
    each): Spark's partition of a key is ``pmod(hash(key), n)``, the same Murmur3 as SQL's ``hash``."""
    rows = spark.range(64 * n).selectExpr("CAST(id AS INT) AS k", "pmod(hash(CAST(id AS INT)), %d) AS p" % n) \
        .groupBy("p").agg({"k": "min"}).collect()
    if len(rows) < n:
        raise RuntimeError("no keys found for %d partitions" % n)
    return sorted(r[1] for r in rows)[:n]
