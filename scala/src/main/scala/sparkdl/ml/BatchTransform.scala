package sparkdl.ml

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.sparkdl.SessionHooks

import sparkdl.image.{ImageArgument, ImageInput}
import sparkdl.inference.{BatchInference, BatchInput, BatchOutput, Model}
import sparkdl.sql.{ModelCall, ModelInputValid, SparkdlExtensions}

/**
 * How every stage runs its model over a DataFrame: as a [[ModelCall]] column, the same batched
 * Catalyst path as sparkdl's SQL functions. `transform` is lazy (no job until an action), the plan
 * shows the model (`SparkdlModelEval` in `explain()`), a query that does not read the output column
 * does not run the model, and the other columns stay Catalyst rows.
 */
private[ml] object BatchTransform {

  /** What an image stage's error about an image the model cannot take ends with. */
  val InvalidImageHint =
    ". Set handleInvalid to 'keep' (null output) or 'skip' (drop the row) to go on."

  /**
   * `df` with `outputCols` appended (one per output): `model` broadcast once, each input fed from
   * the column it names, `batchSize` rows per run (0: auto). `stage` and `modelLabel` name the call
   * in plans. Under `handleInvalid = "skip"`, rows the model cannot score are filtered out before
   * the call.
   */
  def apply(df: DataFrame, stage: String, modelLabel: String, model: Model, inputs: Seq[BatchInput],
            outputs: Seq[BatchOutput], outputCols: Seq[String], batchSize: Int,
            handleInvalid: String = "error",
            invalidHint: String = ""): DataFrame = {
    require(outputs.length == outputCols.length, "one output column per output")
    val spark = df.sparkSession
    SparkdlExtensions.install(spark)
    val skip = handleInvalid == "skip"
    // its checks read this DataFrame's session conf
    val inference = BatchTransform.withActive(spark) {
      BatchInference(
        spark.sparkContext.broadcast(model), inputs, outputs, if (skip) "keep" else handleInvalid,
        invalidHint)
    }
    val args = inputs.map {
      case in: ImageInput => ImageArgument(SessionHooks.expression(col(quoted(in.column))))
      case in => SessionHooks.expression(col(quoted(in.column)))
    }
    val call = SessionHooks.column(ModelCall(stage, modelLabel, args, inference, outputCols,
        Some(batchSize)))
    val scored =
      if (skip) df.filter(SessionHooks.column(ModelInputValid(stage, args, inputs))) else df
    if (outputCols.length == 1) scored.withColumn(outputCols.head, call)
    else {
      val tmp = s"__${stage}_outputs"
      scored.withColumn(tmp, call)
        .withColumns(outputCols.map(c => c -> col(quoted(tmp)).getField(c)).toMap)
        .drop(tmp)
    }
  }

  /**
   * `body` with `spark` as the thread's active session (the session of the DataFrame being
   * transformed).
   */
  def withActive[T](spark: SparkSession)(body: => T): T = {
    val previous = SparkSession.getActiveSession
    SparkSession.setActiveSession(spark)
    try body
    finally previous.fold(SparkSession.clearActiveSession())(SparkSession.setActiveSession)
  }

  private def quoted(name: String): String = "`" + name.replace("`", "``") + "`"
}
