"""Training from a Spark Connect client, where there is no driver in this process and no RDD: each spec
trains in a Spark task (``mapInPandas``). The images, loaded by the spec's loader in Python workers, rows in
the dataset's order, reach the training task through a shuffle keyed by job; nothing comes back to the
client but the trained weights."""
from __future__ import annotations

import json
import pickle
from typing import TYPE_CHECKING, Iterable, Iterator, List, Optional, cast

import numpy as np

from sparkdl.training.local import Trained, train
from sparkdl.training.partitions import one_partition_each
from sparkdl.training.per_task import TRAINING_JOB_GROUP
from sparkdl.training.weights import weights_from_bytes, weights_to_bytes

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

    from sparkdl.training.spec import TrainingSpec

__all__ = ["train_on_connect"]


def train_on_connect(dataset: DataFrame, specs: List[TrainingSpec]) -> List[Trained]:
    """One Spark task per spec. Results in the specs' order."""
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import functions as F

    from sparkdl.ml.keras_image_file import _loader_udf

    spark = dataset.sparkSession
    keys = [s.data_key for s in specs]
    results: List[Optional[Trained]] = [None] * len(specs)
    spark.addTag(TRAINING_JOB_GROUP)
    try:
        for key in dict.fromkeys(keys):
            indices = [i for i, k in enumerate(keys) if k == key]
            first = specs[indices[0]]
            label = F.col(first.label_col)
            if isinstance(dataset.schema[first.label_col].dataType, VectorUDT):  # Arrow has no UDTs
                from pyspark.ml.functions import vector_to_array

                label = vector_to_array(label)
            data = dataset.select(_loader_udf(first.loader())(F.col(first.input_col)).alias("x"),
                                  label.alias("y"), F.monotonically_increasing_id().alias("row"))
            ids = one_partition_each(spark, len(indices))
            jobs = spark.createDataFrame([(ids[j], pickle.dumps((specs[i].read_model(), specs[i].for_tasks())))
                                          for j, i in enumerate(indices)], "job int, spec binary")
            trained = (data.crossJoin(jobs).repartition(len(indices), "job")
                       .mapInPandas(_train_partition, "job int, weights binary, history string, pid int"))
            for r in trained.collect():
                results[indices[ids.index(r.job)]] = Trained(weights_from_bytes(r.weights), json.loads(r.history),
                                                             r.pid)
    finally:
        spark.removeTag(TRAINING_JOB_GROUP)
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise ValueError("KerasImageFileEstimator: the training DataFrame is empty (no rows reached the "
                         "training tasks of param maps %s)" % missing)
    return cast("List[Trained]", results)  # no None left: checked above


def _train_partition(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas body: the rows of one or more jobs -> one row per job with its trained weights."""
    import pandas as pd

    frames = list(batches)
    if not frames:
        return
    rows = pd.concat(frames, ignore_index=True)
    if rows["x"].isnull().any():
        raise ValueError("KerasImageFileEstimator: the imageLoader returned None for %d rows"
                         % int(rows["x"].isnull().sum()))
    for job, part in rows.groupby("job", sort=True):
        part = part.sort_values("row")
        model_bytes, spec = pickle.loads(part["spec"].iloc[0])
        x = np.stack([np.asarray(v, dtype=np.float32) for v in part["x"]])
        y = np.stack([np.asarray(v) for v in part["y"]]) if part["y"].dtype == object else part["y"].to_numpy()
        weights, history, pid = train(model_bytes, spec, x, y)
        yield pd.DataFrame({"job": [int(job)], "weights": [weights_to_bytes(weights)],
                            "history": [json.dumps(history)], "pid": [pid]})
