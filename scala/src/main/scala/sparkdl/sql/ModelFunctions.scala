package sparkdl.sql

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.FunctionIdentifier
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry.FunctionBuilder
import org.apache.spark.sql.catalyst.expressions.{Expression, ExpressionInfo}
import org.apache.spark.sql.types.{ArrayType, NumericType, StringType}

import sparkdl.image.{ImageFields, ImageInput}
import sparkdl.inference.{BatchInference, BatchInput, BatchOutput, Model, OutputFormat, TensorColumnInput}
import sparkdl.models.NamedImageModels
import sparkdl.tf.{FrozenGraph, GraphFiles}

/**
 * sparkdl's built-in SQL functions, added to every session by [[SparkdlExtensions]]:
 *  - `sparkdl_predict(model, image)`: a named model's 1000 ImageNet probabilities, or an exported
 *    graph's first output, for a Spark image struct (resized bilinearly to the model's input,
 *    RGB pixels 0-255, as Keras users feed it);
 *  - `sparkdl_features(model, image)`: a named model's features (the featurizer cut);
 *  - `sparkdl_tensor(model, values)`: an exported graph's first output for a numeric
 *    array/vector column reshaped to its first input.
 * `model` is a constant string: a named model (its export is read from `spark.sparkdl.modelDir`),
 * or a frozen graph file (`graph.pb` with `graph.json` beside it) as a path on any Hadoop file
 * system or the name of a Spark Connect artifact. The model is resolved and checked when the
 * query is analysed, before any job runs; a null input gives null.
 */
object ModelFunctions {

  val Predict = "sparkdl_predict"
  val Features = "sparkdl_features"
  val Tensor = "sparkdl_tensor"

  /** What [[SparkdlExtensions]] injects: name, documentation, builder. */
  def all: Seq[(FunctionIdentifier, ExpressionInfo, FunctionBuilder)] = Seq(
    function(Predict,
      "_FUNC_(model, image) - the model's output for a Spark image struct: a named " +
        "model's ImageNet probabilities, or a frozen graph's first output.", imageFunction(Predict, features = false)),
    function(Features, "_FUNC_(model, image) - a named model's features for a Spark image struct.",
      imageFunction(Features, features = true)),
    function(Tensor,
      "_FUNC_(model, values) - a frozen graph's first output for a numeric array or vector, " +
        "reshaped to the graph's first input.", tensorFunction))

  private def function(name: String, usage: String, builder: FunctionBuilder) =
    (FunctionIdentifier(name),
      new ExpressionInfo(classOf[ModelCall].getName, null, name, usage, "", "", "",
        "misc_funcs", "", "", "built-in"), builder)

  private def imageFunction(name: String, features: Boolean): FunctionBuilder = args => {
    val (model, image) = twoArgs(name, args, "image")
    if (!ImageFields.isImageStruct(image.dataType)) {
      fail(name,
        s"the second argument must be a Spark image struct (${ImageFields.schema.simpleString}), " +
          s"got ${image.dataType.simpleString}")
    }
    val (graph, inputTensor, outputTensor) =
      if (NamedImageModels.names.contains(model)) {
        val exported = NamedImageModels.load(NamedImageModels.resolveDir(model, None), model)
        (exported.graph, exported.inputTensor,
          if (features) exported.featuresTensor else exported.predictionsTensor)
      } else if (features) {
        fail(name,
          s"'$model' is not a named model (${NamedImageModels.names.mkString(", ")}); for a frozen " +
            s"graph use $Predict")
      } else {
        val g = graphFile(name, model)
        (g, g.inputs.head, g.outputs.head)
      }
    val spec = guarded(name, model)(ImageInput.spec(graph, inputTensor, outputTensor, "RGB"))
    call(name, model, image, graph, ImageInput(name, inputTensor, spec), outputTensor)
  }

  private def tensorFunction: FunctionBuilder = args => {
    val (model, values) = twoArgs(Tensor, args, "values")
    values.dataType match {
      case ArrayType(_: NumericType, _) =>
      case t if t.typeName == "vector" =>
      case t => fail(Tensor, s"the second argument must be a numeric array or a vector, got ${t.simpleString}")
    }
    val g = graphFile(Tensor, model)
    val input = guarded(Tensor, model) {
      g.checkOutput(g.outputs.head)
      TensorColumnInput.forTensor(Tensor, g.inputInfo(g.inputs.head), Tensor)
    }
    call(Tensor, model, values, g, input, g.outputs.head)
  }

  private def call(name: String, model: String, child: Expression, graph: Model, input: BatchInput,
                   outputTensor: String): ModelCall = {
    val sc = SparkSession.active.sparkContext
    val inference = BatchInference(sc.broadcast(graph), Seq(input),
      Seq(BatchOutput(outputTensor, OutputFormat.FloatArrayOutput)))
    ModelCall(name, model, child, inference)
  }

  private def twoArgs(name: String, args: Seq[Expression], second: String): (String, Expression) = args match {
    case Seq(m, x) if m.foldable && m.dataType == StringType =>
      Option(m.eval()).map(v => (v.toString, x)).getOrElse(fail(name, "the model name is null"))
    case Seq(m, _) => fail(name, s"the first argument must be a constant string naming the model, got ${m.sql}")
    case _ => fail(name, s"takes 2 arguments (model, $second), got ${args.length}")
  }

  private def graphFile(name: String, model: String): FrozenGraph = {
    val g = guarded(name, model)(GraphFiles.load(model))
    if (g.inputs.isEmpty || g.outputs.isEmpty) {
      fail(name, s"'$model' has no graph.json beside it naming its input and output tensors")
    }
    g
  }

  private def guarded[T](name: String, model: String)(body: => T): T =
    try body
    catch {
      case e: IllegalArgumentException => fail(name, s"model '$model': ${e.getMessage}") // ModelException too
    }

  private def fail(name: String, message: String): Nothing =
    throw new IllegalArgumentException(s"$name: $message")
}
