"""Training several param maps at once on a classic session, one Spark task each (``fitMultiple``,
what ``CrossValidator`` calls): the images are loaded once per loader and columns, and shipped with the
model files by one broadcast."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Tuple

from sparkdl.training.local import Trained, load_rows, train

if TYPE_CHECKING:
    from pyspark.core.broadcast import Broadcast
    from pyspark.sql import DataFrame

    from sparkdl.training.spec import TrainingSpec

__all__ = ["TRAINING_JOB_GROUP", "train_in_tasks"]

#: Spark job group (on Spark Connect, the tag) of the training jobs of fitMultiple.
TRAINING_JOB_GROUP = "sparkdl-keras-training"


def train_in_tasks(dataset: DataFrame, specs: List[TrainingSpec]) -> List[Trained]:
    """One Spark task per spec. Results in the specs' order."""
    sc = dataset.sparkSession.sparkContext
    keys = [s.data_key + (s.model_file,) for s in specs]
    unique = list(dict.fromkeys(keys))
    data = [load_rows(dataset, specs[keys.index(k)]) for k in unique]
    files = {s.model_file: s.read_model() for s in specs}
    shipped: Broadcast[Dict[str, Any]] = sc.broadcast({"data": data, "files": files})
    jobs = [(i, unique.index(k), s.for_tasks()) for i, (k, s) in enumerate(zip(keys, specs))]

    def run(job: Tuple[int, int, TrainingSpec]) -> Tuple[int, Trained]:
        index, data_index, spec = job
        x, y = shipped.value["data"][data_index]
        return index, train(shipped.value["files"][spec.model_file], spec, x, y)

    previous = sc.getLocalProperty("spark.jobGroup.id")
    sc.setJobGroup(TRAINING_JOB_GROUP, "sparkdl KerasImageFileEstimator: training %d param maps" % len(jobs))
    try:
        results = dict(sc.parallelize(jobs, len(jobs)).map(run).collect())
    finally:
        # None clears a local property (pyspark's hints say str)
        sc.setLocalProperty("spark.jobGroup.id", previous)  # type: ignore[arg-type]
        sc.setLocalProperty("spark.job.description", None)  # type: ignore[arg-type]
        shipped.unpersist()
    return [results[i] for i in range(len(jobs))]
