package sparkdl.udf

import org.apache.spark.sql.{Row, SparkSession}
import org.apache.spark.sql.api.java.UDF1
import org.apache.spark.sql.types.{ArrayType, FloatType}

import sparkdl.image.ImageInput
import sparkdl.inference.{BatchInference, BatchInput, BatchOutput, Model, OutputFormat, TensorColumnInput}
import sparkdl.models.NamedImageModels
import sparkdl.tf.FrozenGraph

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
    val spec = ImageInput.spec(graph, inputTensor, outputTensor, channelOrder)
    registerRowFunction[Row](spark, name, graph, ImageInput(name, inputTensor, spec), outputTensor)
  }

  /** As [[register]], for a graph's first input and output, RGB. */
  def register(spark: SparkSession, name: String, graph: FrozenGraph): Unit =
    register(spark, name, graph, graph.inputs.head, graph.outputs.head, "RGB")

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
  def registerTensorModel(spark: SparkSession, name: String, graph: FrozenGraph, inputTensor: String,
                          outputTensor: String): Unit = {
    graph.checkOutput(outputTensor)
    val input = TensorColumnInput.forTensor(name, graph.inputInfo(inputTensor), name)
    registerRowFunction[Any](spark, name, graph, input, outputTensor)
  }

  /** Registers `name(value)`: one batch of one row through the batching core per call. */
  private def registerRowFunction[T](spark: SparkSession, name: String, model: Model, input: BatchInput,
                                     outputTensor: String): Unit = {
    val run = BatchInference(spark.sparkContext.broadcast(model), Seq(input),
      Seq(BatchOutput(outputTensor, OutputFormat.FloatArrayOutput)))
    val fn = new UDF1[T, Any] {
      override def call(value: T): Any = run.run(IndexedSeq(Seq(value)))(0)(0)
    }
    spark.udf.register(name, fn, ArrayType(FloatType, containsNull = false))
  }
}
