"""One public sparkdl entry point as the first sparkdl call of a session that started without sparkdl:
`python first_call.py ENTRY ARGS_JSON` (a notebook's `SparkSession.builder.getOrCreate()`), or the same
under `spark-submit` with no sparkdl arguments. Prints `RESULT:<json>`; the caller checks the numbers."""
import json
import sys

from pyspark.sql import SparkSession

entry, args = sys.argv[1], json.loads(sys.argv[2])
spark = SparkSession.builder.master(args.get("master", "local[2]")).config("spark.ui.enabled", "false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")


def images_view():
    import sparkdl

    sparkdl.readImages(args["images"]).filter("image IS NOT NULL").createOrReplaceTempView("imgs")


def sql_rows(fn):
    return [list(r[0]) for r in spark.sql("SELECT %s(image) FROM imgs ORDER BY filePath" % fn).collect()]


def run():
    if entry == "readImages":
        import sparkdl

        df = sparkdl.readImages(args["images"])
        return sorted([r.filePath.rsplit("/", 1)[-1], r.image is None] for r in df.collect())
    if entry == "data source":  # the format name through Python, after sparkdl was imported
        import sparkdl  # noqa: F401
        from sparkdl.image.imageIO import readImagesWithCustomFn

        return readImagesWithCustomFn(args["images"], decode_f=lambda b: None).count()
    if entry == "registerKerasImageUDF":
        from sparkdl import registerKerasImageUDF

        registerKerasImageUDF("first_fn", args["keras"])
        images_view()
        return sql_rows("first_fn")
    if entry == "registerKerasUDF":
        from sparkdl import registerKerasUDF

        registerKerasUDF("first_fn", keras_model_file=args["keras"])
        images_view()
        return sql_rows("first_fn")
    if entry == "stage":
        import sparkdl
        from sparkdl.graph import FrozenGraph

        df = spark.createDataFrame([(1, [1.0, 2.0, 3.0])], ["id", "x"])
        stage = sparkdl.TFTransformer(graph=FrozenGraph.load(args["graph"]), inputMapping={"x": "input:0"},
                                      outputMapping={"output:0": "y"})
        return [list(r.y) for r in stage.transform(df).collect()]
    if entry == "load":
        import sparkdl

        images = sparkdl.readImages(args["images"]).filter("image IS NOT NULL").orderBy("filePath")
        stage = sparkdl.TFImageTransformer.load(args["saved"])
        return [list(r[0]) for r in stage.transform(images).select(stage.getOutputCol()).collect()]
    if entry == "PipelineModel.load":  # pyspark's own load, sparkdl imported only by the saved stage's class
        from pyspark.ml import PipelineModel

        model = PipelineModel.load(args["pipeline"])
        import sparkdl

        images = sparkdl.readImages(args["images"]).filter("image IS NOT NULL").orderBy("filePath")
        return [list(r[0]) for r in model.transform(images).select(model.stages[0].getOutputCol()).collect()]
    if entry == "spark_session":
        import sparkdl

        same = sparkdl.spark_session() is spark
        return [same, spark.sql("SHOW FUNCTIONS LIKE 'sparkdl_tensor'").count()]
    raise SystemExit("unknown entry point " + entry)


print("RESULT:" + json.dumps(run()))
