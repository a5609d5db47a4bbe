package sparkdl.tf

import sparkdl.inference.ModelException

/** A [[ModelException]] raised by TensorFlow: unknown tensor, wrong shape, TF failure. */
class GraphException(message: String, cause: Throwable = null)
  extends ModelException(message, cause)
