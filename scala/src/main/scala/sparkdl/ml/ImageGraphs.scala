package sparkdl.ml

import sparkdl.image.ImageInputSpec
import sparkdl.tf.{FrozenGraph, GraphException, SessionCache}

/** What an image graph expects, read from the graph itself on the driver. */
object ImageGraphs {

  /**
   * The input spec of `inputTensor` (fixed height and width, 1 or 3 channels, float32),
   * after checking that `outputTensor` exists. `channelOrder` applies to 3-channel inputs;
   * 1-channel inputs take "L".
   */
  def inputSpec(graph: FrozenGraph, inputTensor: String, outputTensor: String, channelOrder: String): ImageInputSpec = {
    val in = SessionCache.withSession(graph) { session =>
      session.outputInfo(outputTensor)
      session.inputInfo(inputTensor)
    }
    if (in.dtype != "float") {
      throw new GraphException(s"Input tensor '${in.name}' is ${in.dtype}; images are fed as float32")
    }
    in.shape match {
      case Some(Seq(_, h, w, c)) if h > 0 && w > 0 && (c == 1 || c == 3) =>
        if (c == 3 && channelOrder == "L") {
          throw new GraphException(s"channelOrder is L but input tensor '${in.name}' takes 3 channels")
        }
        ImageInputSpec(h.toInt, w.toInt, c.toInt, if (c == 1) "L" else channelOrder)
      case _ =>
        throw new GraphException(
          s"Input tensor '${in.name}' has shape ${in.shapeString}; an image model needs " +
            "[batch, height, width, channels] with a fixed height and width and 1 or 3 channels")
    }
  }
}
