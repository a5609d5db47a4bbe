package sparkdl.inference

/**
 * Raised when a model cannot be used as asked: unknown tensor, wrong dtype or shape, engine
 * failure.
 */
class ModelException(message: String, cause: Throwable = null)
  extends IllegalArgumentException(message, cause)
