package sparkdl.ml

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param._
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType

import sparkdl.inference.{BatchOutput, Model, OutputFormat, TensorColumnInput, TensorInfo}

/**
 * Columns fed to a model's inputs and its outputs fetched into columns: [[TFTransformer]],
 * [[ONNXTransformer]].
 */
trait TensorMappingParams extends HasBatchSize {

  final val inputCols: StringArrayParam = new StringArrayParam(this, "inputCols",
    "input columns, fed to inputTensors (same order): numeric arrays, Vectors or numbers")

  final val inputTensors: StringArrayParam = new StringArrayParam(this, "inputTensors",
    "model inputs fed from inputCols (same order)")

  final val outputTensors: StringArrayParam = new StringArrayParam(this, "outputTensors",
    "model outputs fetched into outputCols (same order); first dimension the batch")

  final val outputCols: StringArrayParam = new StringArrayParam(this, "outputCols",
    "output columns: array<float>, or float for a tensor of shape [batch]")

  def getInputCols: Array[String] = $(inputCols)
  def getInputTensors: Array[String] = $(inputTensors)
  def getOutputTensors: Array[String] = $(outputTensors)
  def getOutputCols: Array[String] = $(outputCols)

  /** {column -> input tensor} */
  def getInputMapping: Map[String, String] = $(inputCols).zip($(inputTensors)).toMap

  /** {output tensor -> column} */
  def getOutputMapping: Map[String, String] = $(outputTensors).zip($(outputCols)).toMap

  def setInputCols(value: Array[String]): this.type = set(inputCols, value)
  def setInputTensors(value: Array[String]): this.type = set(inputTensors, value)
  def setOutputTensors(value: Array[String]): this.type = set(outputTensors, value)
  def setOutputCols(value: Array[String]): this.type = set(outputCols, value)

  /** {column -> input tensor}; order kept as given. */
  def setInputMapping(mapping: Seq[(String, String)]): this.type =
    set(inputCols, mapping.map(_._1).toArray).set(inputTensors, mapping.map(_._2).toArray)
  def setInputMapping(mapping: java.util.Map[String, String]): this.type =
    setInputMapping(mapping.asScala.toSeq)

  /** {output tensor -> column}; order kept as given. */
  def setOutputMapping(mapping: Seq[(String, String)]): this.type =
    set(outputTensors, mapping.map(_._1).toArray).set(outputCols, mapping.map(_._2).toArray)
  def setOutputMapping(mapping: java.util.Map[String, String]): this.type =
    setOutputMapping(mapping.asScala.toSeq)

  /**
   * The model inputs (fed from the input columns) and outputs, checked against `model` on the
   * driver.
   */
  protected def tensorsOf(model: Model, stage: String)
      : (Seq[TensorColumnInput], Seq[BatchOutput]) = {
    for ((a, b, what) <- Seq(
        (inputCols, inputTensors, "inputMapping"), (outputTensors, outputCols, "outputMapping"))) {
      if (!isDefined(a) || !isDefined(b) || $(a).isEmpty)
        throw new IllegalArgumentException(s"$uid: $what is not set")
      if ($(a).length != $(b).length) {
        throw new IllegalArgumentException(s"$uid: ${a.name} and ${b.name} differ in length")
      }
    }
    val ins = $(inputCols).toSeq.zip($(inputTensors)).map { case (c, t) =>
      TensorColumnInput.forTensor(c, model.inputInfo(t), stage)
    }
    (ins,
      $(outputTensors).toSeq.map(t =>
        BatchOutput(t, TensorMappingParams.outputFormat(model.outputInfo(t)))))
  }

  /**
   * Checks the columns (and declared vector sizes) against the inputs; the schema with the outputs
   * added.
   */
  protected def tensorSchema(schema: StructType, ins: Seq[TensorColumnInput],
                             outs: Seq[BatchOutput]): StructType = {
    val result = StageSchema.validateAndTransformSchema(schema,
      ins.map(in =>
        StageSchema.InputCheck(in.column,
          s"(for tensor '${in.tensor}', ${in.dtype} " +
            s"${(-1L +: in.dims.toSeq).mkString("[", ",", "]")}) " +
            "must be a numeric array, a vector or a number",
          TensorColumnInput.supports)),
      $(outputCols).toSeq.zip(outs.map(_.format.dataType)))
    // a vector column whose size is in its metadata
    // (VectorAssembler, ...): checked here, not per row
    ins.foreach(in => TensorColumnInput.declaredSize(schema(in.column)).foreach(in.checkSize))
    result
  }

  /** `dataset` with the outputs of `model` (lazy, batched: [[BatchTransform]]). */
  protected def transformTensors(dataset: Dataset[_], model: Model, stage: String, label: String)
      : DataFrame = {
    val (ins, outs) = tensorsOf(model, stage)
    tensorSchema(dataset.schema, ins, outs)
    BatchTransform(
      dataset.toDF(), stage, label, model, ins, outs, $(outputCols).toSeq, $(batchSize))
  }
}

object TensorMappingParams {

  /** float for a tensor of shape [batch], array<float> otherwise. */
  def outputFormat(info: TensorInfo): OutputFormat =
    if (info.shape.exists(_.length == 1)) OutputFormat.ScalarOutput
    else OutputFormat.FloatArrayOutput
}

/** Params of [[TFTransformer]]. */
trait TFTransformerParams extends HasFrozenGraph with TensorMappingParams

/**
 * Applies a frozen TensorFlow graph to non-image columns: each input column feeds a placeholder
 * (`inputMapping`: column -> tensor), each fetched tensor fills a column (`outputMapping`: tensor
 * -> column). A row's value is reshaped to the placeholder's static shape without its batch
 * dimension (a 1-D column of 6 values feeds `[?, 2, 3]`); a size that disagrees fails with both
 * shapes named. A null in any input column gives nulls in every output column of that row.
 */
class TFTransformer(override val uid: String) extends Transformer with TFTransformerParams
  with MLWritable {

  def this() = this(Identifiable.randomUID("TFTransformer"))

  override def transformSchema(schema: StructType): StructType = {
    val (ins, outs) = tensorsOf(getGraph, "TFTransformer")
    tensorSchema(schema, ins, outs)
  }

  override def transform(dataset: Dataset[_]): DataFrame =
    BatchTransform.withActive(dataset.sparkSession) {
      transformTensors(dataset, getGraph, "TFTransformer", s"graph-${getGraph.hash.take(12)}")
    }

  override def copy(extra: ParamMap): TFTransformer = defaultCopy(extra)

  override def write: MLWriter = new GraphStageWriter(this)
}

object TFTransformer extends MLReadable[TFTransformer] {

  override def read: MLReader[TFTransformer] =
    new GraphStageReader(classOf[TFTransformer].getName, new TFTransformer(_))

  override def load(path: String): TFTransformer = super.load(path)
}
