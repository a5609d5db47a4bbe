"""Training Keras models on Spark: what :class:`sparkdl.ml.KerasImageFileEstimator` runs once its params
are checked (the estimator keeps the params, their validation and the ``fit`` / ``fitMultiple`` dispatch).

- :mod:`~sparkdl.training.spec`: :class:`TrainingSpec`, one training run's checked settings, and
  loading the model file the way every path does (Keras' safe mode, errors naming the user's file);
- :mod:`~sparkdl.training.checks`: the checks on the data made before anything trains;
- :mod:`~sparkdl.training.local`: one model in this process (the driver, or a task's Python worker);
- :mod:`~sparkdl.training.per_task`: one Spark task per param map, on a classic session;
- :mod:`~sparkdl.training.connect`: one Spark task per param map, from a Spark Connect client;
- :mod:`~sparkdl.training.distributed`: one model data-parallel on ``numWorkers`` barrier tasks, each
  starting a :mod:`~sparkdl.training.worker` process;
- :mod:`~sparkdl.training.weights` and :mod:`~sparkdl.training.partitions`: what those paths share.

Nothing here imports TensorFlow until a training runs.
"""
