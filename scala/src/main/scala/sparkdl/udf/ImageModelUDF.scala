package sparkdl.udf

import org.apache.spark.sql.{Row, SparkSession}
import org.apache.spark.sql.api.java.UDF1
import org.apache.spark.sql.types.{ArrayType, FloatType}

import sparkdl.image.{ImageFields, ImageToTensor}
import sparkdl.ml.{ColumnFeeder, ImageGraphs, NamedImageModels, TensorInput}
import sparkdl.tf.{FrozenGraph, SessionCache}

/**
 * Registers models as Spark SQL functions, usable from any language and in Structured
 * Streaming: `SELECT image, my_fn(image) AS objects FROM t`. The graph is broadcast
 * once at registration and loaded once per executor JVM.
 *
 * A SQL function is called row by row: each call runs the graph on one image. For bulk
 * scoring, the ML transformers (which feed batches) are faster.
 */
object ImageModelUDF {

  /**
   * `name(image) -> array<float>`: the image (Spark image struct) resized bilinearly to the
   * graph's input, as float pixels 0-255 in `channelOrder` (grayscale expanded, alpha
   * dropped), through the graph; `outputTensor`'s row is the result. A null image gives null.
   */
  def register(spark: SparkSession, name: String, graph: FrozenGraph, inputTensor: String,
               outputTensor: String, channelOrder: String): Unit = {
    val spec = ImageGraphs.inputSpec(graph, inputTensor, outputTensor, channelOrder)
    val bc = spark.sparkContext.broadcast(graph)
    val fn = new UDF1[Row, Array[Float]] {
      override def call(img: Row): Array[Float] = {
        if (img == null) return null
        val (h, w, c) = (img.getInt(ImageFields.HeightIdx), img.getInt(ImageFields.WidthIdx),
          img.getInt(ImageFields.NChannelsIdx))
        val data = img.getAs[Array[Byte]](ImageFields.DataIdx)
        ImageToTensor.incompatibility(h, w, c, if (data == null) -1 else data.length, spec).foreach { reason =>
          throw new IllegalArgumentException(
            s"$name: image '${img.getString(ImageFields.OriginIdx)}' cannot feed the model: $reason")
        }
        val buffer = new Array[Float](spec.size)
        ImageToTensor.write(h, w, c, data, spec, buffer, 0)
        SessionCache.withSession(bc.value)(
          _.run(inputTensor, Array(1L, spec.height, spec.width, spec.channels), buffer, Seq(outputTensor)).head._2)
      }
    }
    spark.udf.register(name, fn, ArrayType(FloatType, containsNull = false))
  }

  /** As [[register]], for a graph's first input and output, RGB. */
  def register(spark: SparkSession, name: String, graph: FrozenGraph): Unit =
    register(spark, name, graph, graph.inputs.head, graph.outputs.head, "RGB")

  /** py4j-friendly form. */
  def register(spark: SparkSession, name: String, graphDef: Array[Byte], inputTensor: String,
               outputTensor: String, channelOrder: String): Unit =
    register(spark, name, FrozenGraph(graphDef, Seq(inputTensor), Seq(outputTensor)), inputTensor, outputTensor,
      channelOrder)

  /**
   * `name(image)` for a named model exported to `modelDir` (null: the Spark conf
   * `spark.sparkdl.modelDir`): the 1000 ImageNet probabilities, or with `features` the
   * featurizer's values.
   */
  def registerNamedModel(spark: SparkSession, name: String, modelName: String, modelDir: String,
                         features: Boolean): Unit = {
    val dir = NamedImageModels.resolveDir(modelName, Option(modelDir))
    val model = NamedImageModels.load(dir, modelName)
    register(spark, name, model.graph, model.inputTensor,
      if (features) model.featuresTensor else model.predictionsTensor, "RGB")
  }

  /**
   * `name(values) -> array<float>` over a numeric array/vector column: the values reshaped to
   * `inputTensor`'s static shape, through the graph. Used after a preprocessing function.
   */
  def registerTensorModel(spark: SparkSession, name: String, graphDef: Array[Byte], inputTensor: String,
                          outputTensor: String): Unit = {
    val graph = FrozenGraph(graphDef, Seq(inputTensor), Seq(outputTensor))
    val info = SessionCache.withSession(graph) { session =>
      session.outputInfo(outputTensor)
      session.inputInfo(inputTensor)
    }
    val dims = info.shape.filter(d => d.nonEmpty && d.tail.forall(_ > 0)).getOrElse(throw new IllegalArgumentException(
      s"Input tensor '${info.name}' has shape ${info.shapeString}; it needs a batch dimension and known other dimensions"))
    val in = TensorInput(name, 0, inputTensor, dims.tail.toArray, dims.tail.product.toInt)
    val bc = spark.sparkContext.broadcast(graph)
    val fn = new UDF1[Any, Array[Float]] {
      override def call(value: Any): Array[Float] = {
        if (value == null) return null
        val buffer = new Array[Float](in.size)
        ColumnFeeder.write(value, in, buffer, 0)
        SessionCache.withSession(bc.value)(_.run(inputTensor, 1L +: in.dims, buffer, Seq(outputTensor)).head._2)
      }
    }
    spark.udf.register(name, fn, ArrayType(FloatType, containsNull = false))
  }
}
