package sparkdl.ml

import org.apache.spark.ml.param._
import org.apache.spark.ml.util._

/** Params of [[TFImageTransformer]]. */
trait TFImageTransformerParams extends HasFrozenGraph with ImageModelParams {
  override protected def hasModel: Boolean = hasGraph
}

/**
 * The image stage of the original library's name: [[ImageModelStage]] over a frozen TensorFlow
 * graph given as an object (`graph`: what Python's `TFImageTransformer(graph=...)` sets from a
 * Keras model or a `tf.function`) or as a file (`graphPath`, which may also name an `.onnx` model).
 * Its engine-neutral form, taking a model file of either engine, is [[ImageModelTransformer]].
 */
class TFImageTransformer(uid: String) extends ImageModelStage(uid) with TFImageTransformerParams {

  def this() = this(Identifiable.randomUID("TFImageTransformer"))

  override def copy(extra: ParamMap): TFImageTransformer = defaultCopy(extra)

  override def write: MLWriter = new GraphStageWriter(this)
}

object TFImageTransformer extends MLReadable[TFImageTransformer] {

  override def read: MLReader[TFImageTransformer] =
    new GraphStageReader(classOf[TFImageTransformer].getName, new TFImageTransformer(_))

  override def load(path: String): TFImageTransformer = super.load(path)
}
