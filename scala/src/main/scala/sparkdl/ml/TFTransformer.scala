package sparkdl.ml

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param._
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types._

import sparkdl.tf.{FrozenGraph, GraphException, SessionCache, TensorInfo}

/** Params of [[TFTransformer]]. */
trait TFTransformerParams extends HasFrozenGraph {

  final val inputCols: StringArrayParam = new StringArrayParam(this, "inputCols",
    "input columns, fed to inputTensors (same order): array<float>, array<double>, Vector or a number")

  final val inputTensors: StringArrayParam = new StringArrayParam(this, "inputTensors",
    "graph placeholders fed from inputCols (same order)")

  final val outputTensors: StringArrayParam = new StringArrayParam(this, "outputTensors",
    "graph tensors fetched into outputCols (same order); first dimension the batch")

  final val outputCols: StringArrayParam = new StringArrayParam(this, "outputCols",
    "output columns: array<float>, or float for a tensor of shape [batch]")

  final val batchSize: IntParam = new IntParam(this, "batchSize",
    "rows fed to TensorFlow per run; memory per task is bounded by one batch. Default: 64",
    ParamValidators.gtEq(1))

  setDefault(batchSize -> 64)

  def getInputCols: Array[String] = $(inputCols)
  def getInputTensors: Array[String] = $(inputTensors)
  def getOutputTensors: Array[String] = $(outputTensors)
  def getOutputCols: Array[String] = $(outputCols)
  def getBatchSize: Int = $(batchSize)

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
  def setBatchSize(value: Int): this.type = set(batchSize, value)

  /** {column -> input tensor}; order kept as given. */
  def setInputMapping(mapping: Seq[(String, String)]): this.type =
    set(inputCols, mapping.map(_._1).toArray).set(inputTensors, mapping.map(_._2).toArray)
  def setInputMapping(mapping: java.util.Map[String, String]): this.type = setInputMapping(mapping.asScala.toSeq)

  /** {output tensor -> column}; order kept as given. */
  def setOutputMapping(mapping: Seq[(String, String)]): this.type =
    set(outputTensors, mapping.map(_._1).toArray).set(outputCols, mapping.map(_._2).toArray)
  def setOutputMapping(mapping: java.util.Map[String, String]): this.type = setOutputMapping(mapping.asScala.toSeq)

  /** Input and output tensors as the graph declares them, checked on the driver. */
  private def tensors: (Seq[(TensorInfo, Int)], Seq[TensorInfo]) = {
    if (!isDefined(graph)) throw new IllegalArgumentException(s"$uid: param 'graph' is not set")
    for ((a, b, what) <- Seq((inputCols, inputTensors, "inputMapping"), (outputTensors, outputCols, "outputMapping"))) {
      if (!isDefined(a) || !isDefined(b) || $(a).isEmpty) throw new IllegalArgumentException(s"$uid: $what is not set")
      if ($(a).length != $(b).length) {
        throw new IllegalArgumentException(s"$uid: ${a.name} and ${b.name} differ in length")
      }
    }
    SessionCache.withSession($(graph)) { session =>
      val ins = $(inputTensors).toSeq.map { name =>
        val info = session.inputInfo(name)
        if (info.dtype != "float") {
          throw new GraphException(s"Input tensor '${info.name}' is ${info.dtype}; TFTransformer feeds float32")
        }
        val dims = info.shape.getOrElse(throw new GraphException(
          s"Input tensor '${info.name}' has an unknown shape; TFTransformer needs [batch, d1, ..., dk] with known d's"))
        if (dims.isEmpty || dims.tail.exists(_ < 0)) {
          throw new GraphException(
            s"Input tensor '${info.name}' has shape ${info.shapeString}; TFTransformer needs [batch, d1, ..., dk] " +
              "with a batch dimension first and every other dimension known")
        }
        (info, dims.tail.product.toInt)
      }
      (ins, $(outputTensors).toSeq.map(session.outputInfo))
    }
  }

  override def transformSchema(schema: StructType): StructType = {
    val (ins, outs) = tensors
    $(inputCols).zip(ins).foreach { case (col, (info, _)) =>
      val field = schema.fields.find(_.name == col).getOrElse(throw new IllegalArgumentException(
        s"Input column '$col' does not exist. Available columns: ${schema.fieldNames.mkString(", ")}"))
      if (!ColumnFeeder.supports(field.dataType)) {
        throw new IllegalArgumentException(
          s"Input column '$col' (for tensor '${info.name}') must be array<float>, array<double>, vector " +
            s"or numeric but is ${field.dataType.simpleString}")
      }
    }
    $(outputCols).foreach { c =>
      if (schema.fieldNames.contains(c)) throw new IllegalArgumentException(s"Output column '$c' already exists")
    }
    StructType(schema.fields ++ $(outputCols).zip(outs).map { case (c, info) =>
      StructField(c, TFTransformer.outputType(info), nullable = true)
    })
  }

  override def transform(dataset: Dataset[_]): DataFrame = {
    val outSchema = transformSchema(dataset.schema, logging = true)
    val df = dataset.toDF()
    val (ins, outs) = tensors
    val run = TensorBatchInference(
      graph = df.sparkSession.sparkContext.broadcast($(graph)),
      inputs = $(inputCols).toSeq.zip(ins).map { case (c, (info, size)) =>
        TensorInput(c, df.schema.fieldIndex(c), info.name, info.shape.get.tail.toArray, size)
      },
      outputs = outs.map(o => (o.name, TFTransformer.outputType(o) == FloatType)),
      batchSize = $(batchSize))
    df.sparkSession.createDataFrame(df.rdd.mapPartitions(run.apply), outSchema)
  }

  override def copy(extra: ParamMap): TFTransformer = defaultCopy(extra)

  override def write: MLWriter = new GraphStageWriter(this)
}

object TFTransformer extends MLReadable[TFTransformer] {

  /** float for a tensor of shape [batch], array<float> otherwise. */
  private[ml] def outputType(info: TensorInfo): DataType =
    if (info.shape.exists(_.length == 1)) FloatType else ArrayType(FloatType, containsNull = false)

  override def read: MLReader[TFTransformer] =
    new GraphStageReader(classOf[TFTransformer].getName, new TFTransformer(_))

  override def load(path: String): TFTransformer = super.load(path)
}
