package sparkdl.udf

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.expressions.Expression
import org.apache.spark.sql.sparkdl.SessionHooks

import sparkdl.image.{ImageFields, ImageInput}
import sparkdl.inference.{BatchInference, BatchInput, BatchOutput, OutputFormat, TensorColumnInput}
import sparkdl.models.NamedImageModels
import sparkdl.sql.{ModelCall, SparkdlExtensions}
import sparkdl.tf.FrozenGraph

/**
 * Registers models as temporary Spark SQL functions of a session, usable from any language and in
 * Structured Streaming: `SELECT image, my_fn(image) AS objects FROM t`. A thin layer over sparkdl's
 * built-in functions (`sparkdl_predict`, `sparkdl_tensor`): the function is a model call, evaluated
 * in batches like them (`spark.sparkdl.sql.batchSize`, auto by default). The graph is broadcast
 * once at registration and loaded once per executor JVM.
 */
object ImageModelUDF {

  /**
   * `name(image) -> array<float>`: the image (Spark image struct) resized bilinearly to the graph's
   * input, as float pixels 0-255 in `channelOrder` (grayscale expanded, alpha dropped), through the
   * graph; `outputTensor`'s row is the result. A null image gives null.
   */
  def register(spark: SparkSession, name: String, graph: FrozenGraph, inputTensor: String,
               outputTensor: String, channelOrder: String): Unit = {
    val spec = ImageInput.spec(graph, inputTensor, outputTensor, channelOrder)
    registerFunction(spark, name, graph, ImageInput(name, inputTensor, spec), outputTensor,
      arg =>
        if (!ImageFields.isImageInput(arg.dataType)) {
          Some(s"takes ${ImageFields.ImageInputTypes}, got ${arg.dataType.simpleString}")
        } else None)
  }

  /** As [[register]], for a graph's first input and output, RGB. */
  def register(spark: SparkSession, name: String, graph: FrozenGraph): Unit =
    register(spark, name, graph, graph.inputs.head, graph.outputs.head, "RGB")

  /**
   * `name(image)` for a named model exported to `modelDir` (null: the Spark conf
   * `spark.sparkdl.modelDir`): the 1000 ImageNet probabilities, or with `features` the featurizer's
   * values.
   */
  def registerNamedModel(spark: SparkSession, name: String, modelName: String, modelDir: String,
                         features: Boolean): Unit = {
    NamedImageModels.checkName(modelName)
    val model = NamedImageModels.load(modelName, Option(modelDir))
    register(spark, name, model.graph, model.inputTensor,
      if (features) model.featuresTensor else model.predictionsTensor, "RGB")
  }

  /**
   * `name(values) -> array<float>` over a numeric array/vector column: the values reshaped to
   * `inputTensor`'s static shape, through the graph. Used after a preprocessing function.
   */
  def registerTensorModel(spark: SparkSession, name: String, graph: FrozenGraph,
                          inputTensor: String,
                          outputTensor: String): Unit = {
    graph.checkOutput(outputTensor)
    val input = TensorColumnInput.forTensor(name, graph.inputInfo(inputTensor), name)
    registerFunction(spark, name, graph, input, outputTensor,
      arg =>
        if (TensorColumnInput.supports(arg.dataType)) None
        else Some(s"takes a numeric array or vector, got ${arg.dataType.simpleString}"))
  }

  /** Registers `name(value)` as a model call; `check` says why an argument does not fit. */
  private def registerFunction(spark: SparkSession, name: String, graph: FrozenGraph,
                               input: BatchInput,
                               outputTensor: String, check: Expression => Option[String]): Unit = {
    val normalizeArg: Expression => Expression =
      if (input.isInstanceOf[ImageInput]) ImageFields.normalizeInput else identity
    SparkdlExtensions.install(spark)
    val inference = BatchInference(spark.sparkContext.broadcast(graph), Seq(input),
      Seq(BatchOutput(outputTensor, OutputFormat.FloatArrayOutput)))
    SessionHooks.registerTempFunction(spark, name,
      {
        case Seq(arg) =>
          check(arg).foreach(reason => throw new IllegalArgumentException(s"$name: $reason"))
          ModelCall(name, s"graph-${graph.hash.take(12)}", Seq(normalizeArg(arg)), inference)
        case args =>
          throw new IllegalArgumentException(s"$name: takes 1 argument, got ${args.length}")
      })
  }
}
