package sparkdl.ml

import org.apache.spark.ml.param.{IntParam, Param, ParamValidators, Params}

/** Params of every stage that feeds image batches to a graph: batch size and bad-image policy. */
trait ImageBatchParams extends Params {

  final val batchSize: IntParam = new IntParam(this, "batchSize",
    "images fed to TensorFlow per run; memory per task is bounded by one batch. Default: 32",
    ParamValidators.gtEq(1))

  final val handleInvalid: Param[String] = new Param[String](this, "handleInvalid",
    "what to do with an image the model cannot take (no pixels, unsupported channels): " +
      "error (fail), keep (null output) or skip (drop the row). Null images always give null. Default: error",
    ParamValidators.inArray(Array("error", "keep", "skip")))

  setDefault(batchSize -> 32, handleInvalid -> "error")

  def getBatchSize: Int = $(batchSize)
  def getHandleInvalid: String = $(handleInvalid)
  def setBatchSize(value: Int): this.type = set(batchSize, value)
  def setHandleInvalid(value: String): this.type = set(handleInvalid, value)
}
