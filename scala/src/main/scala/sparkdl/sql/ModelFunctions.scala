package sparkdl.sql

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.FunctionIdentifier
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry.FunctionBuilder
import org.apache.spark.sql.catalyst.expressions.{Expression, ExpressionInfo}
import org.apache.spark.sql.types.{
  ArrayType, ByteType, IntegerType, LongType, NumericType, ShortType, StringType
}

import sparkdl.image.{ImageFields, ImageInput}
import sparkdl.inference.{
  BatchInference, BatchInput, BatchOutput, Engines, Model, OutputFormat, TensorColumnInput
}
import sparkdl.models.{ImageNetLabels, NamedImageModels}
import sparkdl.text.TextModels
import sparkdl.tf.{FrozenGraph, GraphFiles}

/**
 * sparkdl's built-in SQL functions, added to every session by [[SparkdlExtensions]]:
 *   - `sparkdl_predict(model, image [, topK])`: a named model's 1000 ImageNet probabilities (with
 *     `topK`, the K most probable classes as `array<struct<class, description, probability>>`), or
 *     an exported graph's first output, for an image (resized bilinearly to the model's input, RGB
 *     pixels 0-255, as Keras users feed it): a Spark image struct, or an encoded file (`binary`, or
 *     `struct<bytes, path>`) decoded in the model's batch loop ([[sparkdl.image.ImageInput]]);
 *   - `sparkdl_features(model, image)`: a named model's features (the featurizer cut);
 *   - `sparkdl_tensor(model, values)`: an exported graph's first output for a numeric array/vector
 *     column reshaped to its first input;
 *   - `sparkdl_embed(model, text)`: a sentence encoder's embedding of a string;
 *   - `sparkdl_tokenize(tokenizer, text [, maxLength [, padding]])`: token ids and attention mask
 *     from a Hugging Face `tokenizer.json` ([[TokenizeFunction]]);
 *   - `sparkdl_decode_image(file [, path])`: encoded image bytes as a Spark image struct
 *     ([[DecodeImageFunction]]);
 *   - `sparkdl_device()`: where the models of the JVM evaluating it run ([[DeviceFunction]]).
 * `model` is a constant string: a named model (its export is read from `spark.sparkdl.modelDir`),
 * or a frozen graph file (`graph.pb` with `graph.json` beside it) as a path on any Hadoop file
 * system or the name of a Spark Connect artifact. The model is resolved and checked when the query
 * is analysed, before any job runs; a null input gives null. An input the model cannot take (an
 * image with no pixels, a wrong number of values) fails the query, or gives null under
 * `spark.sparkdl.sql.handleInvalid=keep`.
 */
object ModelFunctions {

  val Predict = "sparkdl_predict"
  val Features = "sparkdl_features"
  val Tensor = "sparkdl_tensor"
  val Embed = "sparkdl_embed"

  /** What a function does with an input the model cannot take: error (default) or keep (null). */
  val HandleInvalidConf = "spark.sparkdl.sql.handleInvalid"

  /** What [[SparkdlExtensions]] injects: name, documentation, builder. */
  def all: Seq[(FunctionIdentifier, ExpressionInfo, FunctionBuilder)] = Seq(
    function(Predict,
      "_FUNC_(model, image [, topK]) - the model's output for an image (a Spark image " +
        "struct, encoded bytes, or struct<bytes, path>): a named model's ImageNet " +
        "probabilities (with topK, the K most probable classes with their labels), or " +
        "a frozen graph's first output.", imageFunction(Predict, features = false)),
    function(Features,
      "_FUNC_(model, image) - a named model's features for an image " +
        "(a Spark image struct, encoded bytes, or struct<bytes, path>).",
      imageFunction(Features, features = true)),
    function(Tensor,
      "_FUNC_(model, values) - a frozen graph's first output for a numeric array or vector, " +
        "reshaped to the graph's first input.", tensorFunction),
    function(Embed,
      "_FUNC_(model, text) - a sentence encoder's embedding (array<float>) of a string, e.g. " +
        "_FUNC_('all-MiniLM-L6-v2', text); the model's export is read from spark.sparkdl.modelDir.",
      embedFunction),
    function(TokenizeFunction.Name,
      "_FUNC_(tokenizer, text [, maxLength [, padding]]) - a string's token ids and " +
        "attention mask from a Hugging Face tokenizer.json (or a folder holding one): " +
        "struct<input_ids: array<bigint>, attention_mask: array<bigint>>, special " +
        "tokens added, truncated at maxLength (0: the file's, else 512), padded to it " +
        "with padding 'max_length' (default 'none').", TokenizeFunction.build),
    function(DecodeImageFunction.Name,
      "_FUNC_(file [, path]) - encoded image bytes (binary, or struct<bytes, " +
        "path>) decoded as readImages decodes files: struct<image, " +
        "imageError>, the Spark image struct or null and the reason.",
      DecodeImageFunction.build),
    function(DeviceFunction.Name,
      "_FUNC_() - where the models of the executor evaluating it run, as JSON: " +
        "the GPU address Spark assigned (spark.executor.resource.gpu.amount) " +
        "or null, TensorFlow's device settings and ONNX Runtime's device.",
      {
        case Seq() => DeviceFunction()
        case args =>
          throw new IllegalArgumentException(
            s"${DeviceFunction.Name} takes no arguments, got ${args.length}")
      }))

  private def function(name: String, usage: String, builder: FunctionBuilder) =
    (FunctionIdentifier(name),
      new ExpressionInfo(classOf[ModelCall].getName, null, name, usage, "", "", "",
        "misc_funcs", "", "", "built-in"), builder)

  private def imageFunction(name: String, features: Boolean): FunctionBuilder = allArgs => {
    val (args, topK) = allArgs match {
      case Seq(m, i, k) if !features => (Seq(m, i), Some(intArg(name, k, "topK", 1, 1000)))
      case _ => (allArgs, None)
    }
    val (model, image) = twoArgs(name, args, if (features) "image" else "image [, topK]")
    if (!ImageFields.isImageInput(image.dataType)) {
      fail(name,
        s"the second argument must be ${ImageFields.ImageInputTypes}, " +
          s"got ${image.dataType.simpleString}")
    }
    if (topK.isDefined && !NamedImageModels.names.contains(model)) {
      fail(name, s"topK needs a named model's ImageNet labels; '$model' is not a named model")
    }
    val (graph, inputTensor, outputTensor) =
      if (NamedImageModels.names.contains(model)) {
        val exported = NamedImageModels.load(model, None)
        // the engine of the session's conf spark.sparkdl.engine, else auto (measured)
        (exported.forEngine(Engines.fromConf()), exported.inputTensor,
          if (features) exported.featuresTensor else exported.predictionsTensor)
      } else if (features) {
        fail(name,
          s"'$model' is not a named model (${NamedImageModels.names.mkString(", ")}); " +
            s"for a frozen graph use $Predict")
      } else {
        val g = graphFile(name, model)
        (g, g.inputs.head, g.outputs.head)
      }
    val spec = guarded(name, model)(ImageInput.spec(graph, inputTensor, outputTensor, "RGB"))
    val format = topK.fold[OutputFormat](OutputFormat.FloatArrayOutput)(k =>
      OutputFormat.TopKOutput(
        k, ImageNetLabels.imagenet1k.ids, ImageNetLabels.imagenet1k.descriptions))
    call(
      name, model, ImageFields.normalizeInput(image), graph, ImageInput(name, inputTensor, spec),
      outputTensor, format)
  }

  private def intArg(name: String, arg: Expression, what: String, min: Int, max: Int): Int = {
    val value =
      if (arg.foldable && Seq(ByteType, ShortType, IntegerType, LongType).contains(arg.dataType))
        Option(arg.eval())
      else None
    value.map(_.toString.toLong).filter(v => v >= min && v <= max).map(_.toInt).getOrElse(
      fail(name, s"$what must be a constant integer from $min to $max, got ${arg.sql}"))
  }

  private def tensorFunction: FunctionBuilder = args => {
    val (model, values) = twoArgs(Tensor, args, "values")
    values.dataType match {
      case ArrayType(_: NumericType, _) =>
      case t if t.typeName == "vector" =>
      case t => fail(
          Tensor, s"the second argument must be a numeric array or a vector, got ${t.simpleString}")
    }
    val g = graphFile(Tensor, model)
    val input = guarded(Tensor, model) {
      g.checkOutput(g.outputs.head)
      TensorColumnInput.forTensor(Tensor, g.inputInfo(g.inputs.head), Tensor)
    }
    call(Tensor, model, values, g, input, g.outputs.head)
  }

  private def embedFunction: FunctionBuilder = args => {
    val (model, text) = twoArgs(Embed, args, "text")
    if (text.dataType != StringType)
      fail(Embed, s"the second argument must be a string, got ${text.dataType.simpleString}")
    val m = guarded(Embed, model)(TextModels.load(model, None))
    call(Embed, model, text, m.model, m.input(Embed),
      m.embeddingTensor)
  }

  private def call(name: String, model: String, child: Expression, graph: Model, input: BatchInput,
                   outputTensor: String, format: OutputFormat = OutputFormat.FloatArrayOutput)
      : ModelCall = {
    val spark = SparkSession.active
    val handleInvalid = spark.conf.get(HandleInvalidConf, "error").trim.toLowerCase
    if (!Seq("error", "keep").contains(handleInvalid)) {
      fail(name,
        s"$HandleInvalidConf must be 'error' or 'keep' (to " +
          s"drop such rows, filter them), got '$handleInvalid'")
    }
    val inference =
      BatchInference(
        spark.sparkContext.broadcast(graph), Seq(input), Seq(BatchOutput(outputTensor, format)),
        handleInvalid, s". Set $HandleInvalidConf=keep for a null instead.")
    ModelCall(name, model, Seq(child), inference)
  }

  private def twoArgs(name: String, args: Seq[Expression], second: String): (String, Expression) =
    args match {
      case Seq(m, x) if m.foldable && m.dataType == StringType =>
        Option(m.eval()).map(v => (v.toString, x)).getOrElse(fail(name, "the model name is null"))
      case Seq(m, _) =>
        fail(name, s"the first argument must be a constant string naming the model, got ${m.sql}")
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
      case e: IllegalArgumentException =>
        fail(name, s"model '$model': ${e.getMessage}") // ModelException too
    }

  private def fail(name: String, message: String): Nothing =
    throw new IllegalArgumentException(s"$name: $message")
}
