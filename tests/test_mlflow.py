"""MLflow: a fitted pipeline with a sparkdl stage logged with `mlflow.spark.log_model`, loaded back, and
served through `mlflow.pyfunc` on a pandas DataFrame of images (whose int fields pandas -> Spark makes
`bigint`): the served predictions equal `transform`'s; the inferred pip requirements name this package."""
import os

import numpy as np
import pytest

mlflow = pytest.importorskip("mlflow")


def test_a_logged_pipeline_loads_and_serves_pandas_images_like_transform(spark, tmp_path):
    import mlflow.pyfunc
    import mlflow.spark
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.classification import LogisticRegression
    from pyspark.sql import functions as F

    import sparkdl
    from sparkdl import DeepImageFeaturizer, readImages
    from tests.support.fixtures import write_shapes

    folder = write_shapes(str(tmp_path / "shapes"), n_per_class=12, seed=4, task="colour")
    data = readImages(folder, recursive=True).withColumn(
        "label", F.when(F.col("filePath").contains("/red/"), 0.0).otherwise(1.0)).orderBy("filePath").cache()
    model = Pipeline(stages=[DeepImageFeaturizer(inputCol="image", outputCol="features", modelName="EfficientNetLite0"),
                             LogisticRegression(maxIter=30)]).fit(data)
    expected = [r.prediction for r in model.transform(data).collect()]
    assert 0 < sum(expected) < len(expected)  # both classes predicted: a comparison that can fail

    mlflow.set_tracking_uri("sqlite:///" + str(tmp_path / "mlflow.db"))
    # artifacts under the test's folder (the default, ./mlruns, is the working directory: the source tree)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("sparkdl", (tmp_path / "artifacts").as_uri()))
    with mlflow.start_run():
        info = mlflow.spark.log_model(model, "flowers", dfs_tmpdir=str(tmp_path / "dfs"))
    requirements = open(os.path.join(mlflow.artifacts.download_artifacts(info.model_uri), "requirements.txt")).read()
    assert "sparkdl-pipelines==%s" % sparkdl.__version__ in requirements.split(), requirements
    assert "sparkdl==" not in requirements, requirements

    loaded = mlflow.spark.load_model(info.model_uri, dfs_tmpdir=str(tmp_path / "dfs2"))
    assert isinstance(loaded, PipelineModel) and type(loaded.stages[0]).__name__ == "DeepImageFeaturizer"
    assert [r.prediction for r in loaded.transform(data).collect()] == expected

    served = mlflow.pyfunc.load_model(info.model_uri)
    images = data.select("image").toPandas()
    served_schema = spark.createDataFrame(images).schema["image"].dataType.simpleString()
    assert "height:bigint" in served_schema, served_schema  # what the served stage gets: cast, not refused
    predictions = served.predict(images)
    np.testing.assert_array_equal(np.asarray(predictions, dtype=float), expected)
