package sparkdl.inference

import org.apache.spark.SparkThrowable

/**
 * A row the model cannot take, under `handleInvalid = "error"`. A user-facing Spark error (it has
 * an error condition, not an internal one), so Spark's scheduler raises it as it is rather than
 * inside "Job aborted due to stage failure: ... Lost task ...", and PySpark shows it as an
 * `IllegalArgumentException` whose message is this one: what is wrong with which row, and the way
 * out.
 */
final class InvalidInputException(message: String) extends IllegalArgumentException(message)
  with SparkThrowable {
  override def getCondition: String = InvalidInputException.Condition
  override def getSqlState: String = "22023" // invalid parameter value
  override def getDefaultMessageTemplate: String = message
}

object InvalidInputException {
  val Condition = "SPARKDL_INVALID_INPUT"
}
