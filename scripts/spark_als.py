#!/usr/bin/env python3
"""Trains implicit-feedback ALS (Spark MLlib, ``implicitPrefs=true``: Hu, Koren & Volinsky's iALS)
on a listening log and writes the item factors as Parquet, for ``model-export import-factors``.

The log is (user, item, count) rows: HetRec's ``user_artists.dat`` (tab-separated, header
``userID artistID weight``), or any CSV (header ``user,item,count``) or Parquet with those columns.
Counts become ALS "ratings" as the in-process trainer's ``--values`` does: ``binary`` (1 for every
pair) or ``log`` (ln(1 + count)).

Output ``OUT/``: Spark's ``itemFactors`` (columns ``id`` int, ``features`` array<float>) as
Parquet part files, plus ``attune-als.json`` with the settings, so that the import knows the
objective the factors were trained with.

Local mode by default (``--master local[2]``); the same script runs on a cluster with
``--master spark://host:7077`` (or ``yarn``) and an ``OUT`` on shared storage.

Spark's ALS scales the penalty by each row's number of observed entries (ALS-WR, Zhou et al.
2008): a user with ``n`` artists is penalised ``reg * n``. ``model-export`` trains the same
objective in process (``--penalty per-entry``) for the parity check.
"""

import argparse
import json
import os
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--log", required=True, help="user_artists.dat, a CSV or a Parquet path")
    p.add_argument("--out", required=True, help="output folder (replaced)")
    p.add_argument("--rank", type=int, default=256)
    p.add_argument("--reg", type=float, required=True, help="regParam (scaled by entries per row)")
    p.add_argument("--alpha", type=float, default=10.0)
    p.add_argument("--iterations", type=int, default=30)
    p.add_argument("--values", choices=["binary", "log"], default="binary")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--blocks", type=int, default=0, help="user/item blocks (0: Spark's default)")
    return p.parse_args(argv)


def read_log(spark, path):
    """(user, item, count) as a DataFrame of ints and a double."""
    from pyspark.sql import functions as F

    if path.endswith(".parquet") or os.path.isdir(path):
        df = spark.read.parquet(path)
    elif path.endswith(".dat"):
        df = (
            spark.read.option("header", True)
            .option("sep", "\t")
            .csv(path)
            .withColumnRenamed("userID", "user")
            .withColumnRenamed("artistID", "item")
            .withColumnRenamed("weight", "count")
        )
    else:
        df = spark.read.option("header", True).csv(path)
    missing = {"user", "item", "count"} - set(df.columns)
    if missing:
        sys.exit(f"{path}: no column {sorted(missing)} (need user, item, count)")
    return df.select(
        F.col("user").cast("int").alias("user"),
        F.col("item").cast("int").alias("item"),
        F.col("count").cast("double").alias("count"),
    )


def main(argv):
    args = parse_args(argv)
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = (
        SparkSession.builder.master(args.master)
        .appName("attune-als")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        # Java's vector API lets netlib's pure-Java BLAS use SIMD (no native BLAS needed).
        .config("spark.driver.extraJavaOptions", "--add-modules=jdk.incubator.vector")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    spark.sparkContext.setCheckpointDir(os.path.join(args.out + ".checkpoints"))
    log = read_log(spark, args.log)
    bad = log.filter(F.col("user").isNull() | F.col("item").isNull() | F.col("count").isNull())
    if bad.limit(1).count():
        sys.exit(f"{args.log}: rows whose user, item or count is not a number")
    if args.values == "binary":
        log = log.withColumn("rating", F.lit(1.0))
    else:
        log = log.withColumn("rating", F.log1p(F.col("count")))
    log = log.cache()
    n = log.count()
    users = log.select("user").distinct().count()
    items = log.select("item").distinct().count()
    print(f"[spark-als] {n} entries, {users} users, {items} items; rank {args.rank}, "
          f"reg {args.reg}, alpha {args.alpha}, {args.iterations} iterations, {args.values}",
          flush=True)
    als = ALS(
        rank=args.rank,
        maxIter=args.iterations,
        regParam=args.reg,
        alpha=args.alpha,
        implicitPrefs=True,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        seed=args.seed,
        checkpointInterval=10,
        coldStartStrategy="drop",
    )
    if args.blocks:
        als = als.setNumUserBlocks(args.blocks).setNumItemBlocks(args.blocks)
    t0 = time.time()
    model = als.fit(log)
    model.itemFactors.orderBy("id").write.mode("overwrite").parquet(args.out)
    seconds = time.time() - t0
    settings = {
        "trainer": "spark-mllib-als",
        "spark": spark.version,
        "rank": args.rank,
        "reg": args.reg,
        "alpha": args.alpha,
        "iterations": args.iterations,
        "values": args.values,
        "seed": args.seed,
        "penalty": "per-entry",
        "entries": n,
        "users": users,
        "items": items,
        "master": args.master,
        "seconds": round(seconds, 1),
    }
    with open(os.path.join(args.out, "attune-als.json"), "w") as f:
        json.dump(settings, f, indent=2)
    print(f"[spark-als] trained and wrote {args.out} in {seconds:.1f} s", flush=True)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
