package sparkdl.inference

import org.apache.spark.network.util.JavaUtils
import org.apache.spark.sql.SparkSession

/**
 * What one batch may take in an executor JVM: its input buffers, sized from the model's declared
 * input shapes (an image stage's target size), checked on the driver before any job. A model that
 * declares a huge input (`[N, 40000, 40000, 3]`, a `model.json` saying 9999 x 9999) is refused at
 * `transform` instead of an `OutOfMemoryError` that ends the session; a large one gets its batch
 * size capped so that a batch fits (the auto batch size tries only sizes that fit).
 *
 * The budget of one batch: the Spark conf `spark.sparkdl.batchMemory` (bytes, `512m` style), else a
 * quarter of an executor's heap (`spark.executor.memory`; the driver's heap in local mode) divided
 * by the tasks an executor runs at once (`spark.executor.cores`; the local threads in local mode).
 */
object BatchMemory {

  val Conf = "spark.sparkdl.batchMemory"

  /** The budget of one batch, from the active session's conf (see the object's documentation). */
  def budget(spark: Option[SparkSession]): Long = {
    val conf = spark.map(_.sparkContext.getConf)
    spark.flatMap(_.conf.getOption(Conf)).map(JavaUtils.byteStringAsBytes).getOrElse {
      val local = spark.exists(_.sparkContext.isLocal)
      val heap =
        if (local || spark.isEmpty) Runtime.getRuntime.maxMemory
        else JavaUtils.byteStringAsBytes(
          conf.flatMap(_.getOption("spark.executor.memory")).getOrElse("1g"))
      val tasks =
        if (local) spark.map(_.sparkContext.defaultParallelism).getOrElse(1)
        else conf.flatMap(_.getOption("spark.executor.cores")).map(_.toInt).getOrElse(1)
      heap / 4 / math.max(1, tasks)
    }
  }

  /** `a * b`, or Long.MaxValue when it overflows (declared shapes can be absurd on purpose). */
  private def times(a: Long, b: Long): Long =
    if (a != 0 && b > Long.MaxValue / a) Long.MaxValue else a * b

  /**
   * The bytes of one row of `input`: its declared dimensions (dynamic ones left out) x
   * `bytesPerValue`.
   */
  def rowBytes(input: BatchInput, bytesPerValue: Int = 4): Long =
    input.dims.filter(_ > 0).foldLeft(bytesPerValue.toLong)(times)

  /**
   * The most rows a batch may hold within `budget`; fails (on the driver) naming the largest input
   * when even one row does not fit. `what` names the stage or function and the model.
   */
  def maxRows(inputs: Seq[BatchInput], budget: Long, what: String): Int = {
    val perInput = inputs.map(in => in -> in.rowBytes)
    val row =
      perInput.map(_._2).foldLeft(0L)((a, b) => if (Long.MaxValue - a < b) Long.MaxValue else a + b)
    if (row > budget) {
      val (largest, bytes) = perInput.maxBy(_._2)
      throw new ModelException(
        s"$what: input '${largest.tensor}' (column '${largest.column}') declares " +
          s"${largest.dims.map(d => if (d < 0) "?" else d.toString).mkString("[?, ", ", ", "]")} " +
          s"per row: ${human(bytes)} for one row, more than the ${human(budget)} one batch may " +
          s"take in an executor (a quarter of its heap per task; the Spark conf $Conf sets it). " +
          "The model cannot run here: raise spark.executor.memory (spark.driver.memory in local " +
          "mode) or that setting, or use a model with a smaller input.")
    }
    math.max(1L, math.min(Int.MaxValue.toLong, budget / math.max(1L, row))).toInt
  }

  private def human(bytes: Long): String =
    if (bytes == Long.MaxValue) "more than 8 EiB"
    else if (bytes >= (1L << 30)) f"${bytes.toDouble / (1L << 30)}%.1f GiB"
    else f"${bytes.toDouble / (1L << 20)}%.1f MiB"
}
