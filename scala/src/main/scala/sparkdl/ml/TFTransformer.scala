package sparkdl.ml

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param._
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType

import sparkdl.inference.{BatchOutput, OutputFormat, TensorColumnInput, TensorInfo}

/** Params of [[TFTransformer]]. */
trait TFTransformerParams extends HasFrozenGraph with HasBatchSize {

  final val inputCols: StringArrayParam = new StringArrayParam(this, "inputCols",
    "input columns, fed to inputTensors (same order): array<float>, array<double>, Vector or a number")

  final val inputTensors: StringArrayParam = new StringArrayParam(this, "inputTensors",
    "graph placeholders fed from inputCols (same order)")

  final val outputTensors: StringArrayParam = new StringArrayParam(this, "outputTensors",
    "graph tensors fetched into outputCols (same order); first dimension the batch")

  final val outputCols: StringArrayParam = new StringArrayParam(this, "outputCols",
    "output columns: array<float>, or float for a tensor of shape [batch]")

  setDefault(batchSize -> 0)

  def getInputCols: Array[String] = $(inputCols)
  def getInputTensors: Array[String] = $(inputTensors)
  def getOutputTensors: Array[String] = $(outputTensors)
  def getOutputCols: Array[String] = $(outputCols)

  /** {column -> input tensor} */
  def getInputMapping: Map[String, String] = $(inputCols).zip($(inputTensors)).toMap

  /** {output tensor -> column} */
  def getOutputMapping: Map[String, String] = $(outputTensors).zip($(outputCols)).toMap
}

/**
 * Applies a frozen TensorFlow graph to non-image columns: each input column feeds a
 * placeholder (`inputMapping`: column -> tensor), each fetched tensor fills a column
 * (`outputMapping`: tensor -> column). A row's value is reshaped to the placeholder's
 * static shape without its batch dimension (a 1-D column of 6 values feeds `[?, 2, 3]`);
 * a size that disagrees fails with both shapes named. A null in any input column gives
 * nulls in every output column of that row.
 */
class TFTransformer(override val uid: String) extends Transformer with TFTransformerParams with MLWritable {

  def this() = this(Identifiable.randomUID("TFTransformer"))

  def setInputCols(value: Array[String]): this.type = set(inputCols, value)
  def setInputTensors(value: Array[String]): this.type = set(inputTensors, value)
  def setOutputTensors(value: Array[String]): this.type = set(outputTensors, value)
  def setOutputCols(value: Array[String]): this.type = set(outputCols, value)

  /** {column -> input tensor}; order kept as given. */
  def setInputMapping(mapping: Seq[(String, String)]): this.type =
    set(inputCols, mapping.map(_._1).toArray).set(inputTensors, mapping.map(_._2).toArray)
  def setInputMapping(mapping: java.util.Map[String, String]): this.type = setInputMapping(mapping.asScala.toSeq)

  /** {output tensor -> column}; order kept as given. */
  def setOutputMapping(mapping: Seq[(String, String)]): this.type =
    set(outputTensors, mapping.map(_._1).toArray).set(outputCols, mapping.map(_._2).toArray)
  def setOutputMapping(mapping: java.util.Map[String, String]): this.type = setOutputMapping(mapping.asScala.toSeq)

  /** The model inputs (fed from the input columns) and outputs, checked against the graph on the driver. */
  private def tensors: (Seq[TensorColumnInput], Seq[BatchOutput]) = {
    val g = getGraph
    for ((a, b, what) <- Seq((inputCols, inputTensors, "inputMapping"), (outputTensors, outputCols, "outputMapping"))) {
      if (!isDefined(a) || !isDefined(b) || $(a).isEmpty) throw new IllegalArgumentException(s"$uid: $what is not set")
      if ($(a).length != $(b).length) {
        throw new IllegalArgumentException(s"$uid: ${a.name} and ${b.name} differ in length")
      }
    }
    val ins = $(inputCols).toSeq.zip($(inputTensors)).map { case (c, t) =>
      TensorColumnInput.forTensor(c, g.inputInfo(t), "TFTransformer")
    }
    (ins, $(outputTensors).toSeq.map(t => BatchOutput(t, TFTransformer.outputFormat(g.outputInfo(t)))))
  }

  override def transformSchema(schema: StructType): StructType = {
    val (ins, outs) = tensors
    val result = StageSchema.validateAndTransformSchema(schema,
      ins.map(in =>
        StageSchema.InputCheck(in.column,
          s"(for tensor '${in.tensor}') must be array<float>, array<double>, vector or numeric",
          TensorColumnInput.supports)),
      $(outputCols).toSeq.zip(outs.map(_.format.dataType)))
    // a vector column whose size is in its metadata (VectorAssembler, ...): checked here, not per row
    ins.foreach(in => TensorColumnInput.declaredSize(schema(in.column)).foreach(in.checkSize))
    result
  }

  override def transform(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema, logging = true)
    val (ins, outs) = tensors
    BatchTransform(
      dataset.toDF(), "TFTransformer", s"graph-${getGraph.hash.take(12)}", getGraph, ins, outs, $(outputCols).toSeq,
      $(batchSize))
  }

  override def copy(extra: ParamMap): TFTransformer = defaultCopy(extra)

  override def write: MLWriter = new GraphStageWriter(this)
}

object TFTransformer extends MLReadable[TFTransformer] {

  /** float for a tensor of shape [batch], array<float> otherwise. */
  private def outputFormat(info: TensorInfo): OutputFormat =
    if (info.shape.exists(_.length == 1)) OutputFormat.ScalarOutput else OutputFormat.FloatArrayOutput

  override def read: MLReader[TFTransformer] =
    new GraphStageReader(classOf[TFTransformer].getName, new TFTransformer(_))

  override def load(path: String): TFTransformer = super.load(path)
}
