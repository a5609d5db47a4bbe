package sparkdl.tf

/** Raised when a graph cannot be used as asked: unknown tensor, wrong shape, TF failure. */
class GraphException(message: String, cause: Throwable = null)
  extends IllegalArgumentException(message, cause)
