package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.functions.{array, lit, when}
import org.apache.spark.sql.types.{StructField, StructType}

import sparkdl.inference.OutputFormat
import sparkdl.tf.FrozenGraph

/**
 * A saved Keras model applied to a 1-D array column. The Keras file is read and frozen on the
 * Python side (`sparkdl.KerasTransformer(modelFile=...)`); this stage holds the frozen graph, so a
 * saved stage loads and runs in Scala without Python or the file. Each row's values are reshaped to
 * the model's input shape; the output is array<float>.
 */
class KerasTransformer(override val uid: String)
  extends Transformer with HasFrozenGraph with HasInputCol with HasOutputCol with HasModelFile
  with HasBatchSize with MLWritable {

  def this() = this(Identifiable.randomUID("KerasTransformer"))

  /** The equivalent TFTransformer: one input, one output. */
  private def delegate: TFTransformer = {
    val g = KerasTransformer.frozenModel(this)
    if (g.inputs.size != 1 || g.outputs.size != 1) {
      throw new IllegalArgumentException(
        "KerasTransformer takes models with one input and one output; this " +
          s"graph has inputs ${g.inputs.mkString("[", ", ", "]")} and " +
          s"outputs ${g.outputs.mkString("[", ", ", "]")}: use TFTransformer")
    }
    new TFTransformer(uid).setGraph(g).setBatchSize($(batchSize))
      .setInputMapping(Seq($(inputCol) -> g.inputs.head))
      .setOutputMapping(Seq(g.outputs.head -> $(outputCol)))
  }

  override def transformSchema(schema: StructType): StructType = {
    val out = delegate.transformSchema(schema)
    // a per-row scalar output is still returned as a 1-element array, like Keras' predict
    StructType(out.fields.init :+ StructField($(outputCol), OutputFormat.FloatArrayOutput.dataType,
      nullable = true))
  }

  override def transform(dataset: Dataset[_]): DataFrame =
    BatchTransform.withActive(dataset.sparkSession) {
      val schema = transformSchema(dataset.schema, logging = true)
      val df = delegate.transform(dataset)
      if (df.schema($(outputCol)).dataType == schema($(outputCol)).dataType) df
      else {
        val c = df($(outputCol))
        df.withColumn($(outputCol), when(c.isNull, lit(null)).otherwise(array(c)))
      }
    }

  override def copy(extra: ParamMap): KerasTransformer = defaultCopy(extra)

  override def write: MLWriter = new GraphStageWriter(this)
}

object KerasTransformer extends MLReadable[KerasTransformer] {

  /** The graph frozen from a Keras stage's modelFile, or an error saying where it comes from. */
  private[ml] def frozenModel(stage: HasFrozenGraph): FrozenGraph = {
    if (!stage.hasGraph) {
      throw new IllegalArgumentException(
        s"${stage.uid}: no model: set modelFile from Python (the file is frozen there)")
    }
    stage.getGraph
  }

  override def read: MLReader[KerasTransformer] =
    new GraphStageReader(classOf[KerasTransformer].getName, new KerasTransformer(_))
  override def load(path: String): KerasTransformer = super.load(path)
}
