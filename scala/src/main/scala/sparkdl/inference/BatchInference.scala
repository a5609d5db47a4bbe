package sparkdl.inference

import org.apache.spark.broadcast.Broadcast
import org.apache.spark.sql.SparkSession

/** One model input fed from one column: how a non-null cell becomes `size` floats of the batch. */
trait BatchInput extends Serializable {

  /** The column (or SQL function) the cells come from, for messages. */
  def column: String

  /** The model input fed. */
  def tensor: String

  /** Every model input this input feeds (text: token ids and mask). */
  def tensors: Seq[String] = Seq(tensor)

  /** Shape of one row's value, without the batch dimension. */
  def dims: Array[Long]

  /**
   * Floats per row (within [[BatchMemory]]'s budget: checked on the driver before any batch is
   * built).
   */
  final def size: Int = dims.product.toInt

  /**
   * Bytes one row's values take in the batch buffers, from the declared dimensions
   * ([[BatchMemory]]).
   */
  def rowBytes: Long = BatchMemory.rowBytes(this)

  /** Why `value` cannot feed the model (a row-level problem, see `handleInvalid`), or None. */
  def incompatibility(value: Any): Option[String] = None

  /**
   * `value` as [[write]] takes it, or why it cannot feed the model. By default the value itself
   * after [[incompatibility]]; an input may do its row's work here, once (encoded images: decoded).
   */
  def prepare(value: Any): Either[String, Any] = incompatibility(value).toLeft(value)

  /** Names an invalid cell in messages, e.g. `image 'a.jpg'`. */
  def describe(value: Any): String = "value"

  /**
   * Writes the floats of a [[prepare]]d `value` at `dst(offset until offset + size)`; fails on a
   * caller's error.
   */
  def write(value: Any, dst: Array[Float], offset: Int): Unit

  /**
   * The model's feeds for a batch of [[prepare]]d values: by default one float tensor `[n] ++ dims`
   * filled by [[write]]. An input may feed several tensors of its own making (text: token ids and a
   * mask, padded to the batch's longest row).
   */
  def feeds(values: IndexedSeq[Any]): Seq[Feed] = {
    val buffer = new Array[Float](values.length * size)
    var j = 0
    while (j < values.length) {
      write(values(j), buffer, j * size)
      j += 1
    }
    Seq(Feed(tensor, values.length.toLong +: dims, buffer))
  }

  /**
   * Whether rows should be sorted by [[cost]] into batches (inputs padded per batch, such as
   * texts).
   */
  def sortsByCost: Boolean = false

  /** A cheap measure of what feeding `value` costs (texts: their length). */
  def cost(value: Any): Int = 0
}

/** One model output and how each row's slice of it becomes an output cell. */
final case class BatchOutput(tensor: String, format: OutputFormat)

/**
 * The one executor-side batching core, for every stage and SQL function and any engine: rows -> one
 * float buffer per input -> one run of the model's session ([[SessionCache]]) -> one output cell
 * per row and output. Serializable and free of any stage, so closures never capture one; at most
 * one batch of rows and its buffers are held at a time.
 *
 * Row policy: a null in any input is not fed: the row gets null outputs, or is dropped under
 * `handleInvalid = "skip"` (MLlib's meaning: skip drops every row the model cannot score). A value
 * an input finds invalid fails the task under "error" (the message names the column, the value and
 * the reason, followed by `invalidHint`), gives null outputs under "keep", and drops the row under
 * "skip".
 */
final case class BatchInference(
    model: Broadcast[_ <: Model],
    inputs: Seq[BatchInput],
    outputs: Seq[BatchOutput],
    handleInvalid: String = "error",
    invalidHint: String = "") {

  require(Seq("error", "keep", "skip").contains(handleInvalid),
    s"handleInvalid must be error, keep or skip, got '$handleInvalid'")

  // Built on the driver only (executors deserialize it, which runs no constructor body): what
  // would fail in every task fails here, before any job.
  model.value.checkAllowed()
  model.value.checkRun(inputs.flatMap(_.tensors), outputs.map(_.tensor))

  /**
   * `spark.sparkdl.runTimeout` of the query's session, in ms (0: none): a longer model run is
   * stopped.
   */
  val runTimeoutMs: Long =
    SparkSession.getActiveSession.flatMap(_.conf.getOption(RunWatch.TimeoutConf))
      .filter(_.trim.nonEmpty).map(org.apache.spark.network.util.JavaUtils.timeStringAsMs)
      .getOrElse(0L)

  /**
   * The most rows one batch may hold ([[BatchMemory]]): a model whose single row cannot fit fails
   * here.
   */
  val maxBatchRows: Int =
    BatchMemory.maxRows(inputs, BatchMemory.budget(SparkSession.getActiveSession), "The model")

  /**
   * Runs one batch: `values(i)(k)` is row `i`'s value for input `k`, on the model's form `engine`
   * (an index into `model.engines`). Returns, per row, its output cells (nulls for a row not fed),
   * or null for a row dropped under "skip".
   */
  def run(values: IndexedSeq[Seq[Any]], engine: Int = 0): Array[Array[Any]] = {
    val n = values.length
    val cells = Array.fill[Array[Any]](n)(new Array[Any](outputs.length))
    val fed = new Array[Int](n)
    val prepared = new Array[Seq[Any]](n)
    var m = 0
    var i = 0
    while (i < n) {
      val row = values(i)
      if (row.contains(null)) {
        if (handleInvalid == "skip") cells(i) = null
      } else {
        prepare(row) match {
          case Right(ready) =>
            fed(m) = i
            prepared(m) = ready
            m += 1
          case Left(message) =>
            handleInvalid match {
              case "error" => throw new InvalidInputException(message + invalidHint)
              case "skip" => cells(i) = null
              case _ => // keep: null outputs
            }
        }
      }
      i += 1
    }
    if (m > 0) {
      val feeds = inputs.zipWithIndex.flatMap { case (in, k) =>
        in.feeds((0 until m).map(j => prepared(j)(k)))
      }
      val results = RunWatch("The model run", runTimeoutMs) { control =>
        SessionCache.withSession(model.value)(
          _.runOn(engine, feeds, outputs.map(_.tensor), control))
      }
      BatchInference.runs.incrementAndGet()
      results.zip(outputs).zipWithIndex.foreach { case (((shape, out), output), k) =>
        if (shape.isEmpty || shape(0) != m) {
          throw new IllegalStateException(
            s"Output '${output.tensor}' has shape ${shape.mkString("[", ",", "]")} " +
              s"for a batch of $m rows; its first dimension must be the batch")
        }
        val per = out.length / m
        var j = 0
        while (j < m) {
          cells(fed(j))(k) = output.format.cell(out, j * per, per)
          j += 1
        }
      }
    }
    cells
  }

  /**
   * The row's values as the inputs write them, or the message for the first input that finds its
   * value invalid.
   */
  private def prepare(row: Seq[Any]): Either[String, Seq[Any]] = {
    val ready = new Array[Any](inputs.length)
    var k = 0
    while (k < inputs.length) {
      inputs(k).prepare(row(k)) match {
        case Right(v) => ready(k) = v
        case Left(reason) =>
          return Left(
            s"Column '${inputs(k).column}': ${inputs(k).describe(row(k))} cannot feed the model " +
              s"(${inputs(k).dims.mkString("x")}): $reason")
      }
      k += 1
    }
    Right(ready.toSeq)
  }
}

object BatchInference {

  /** Model runs in this JVM since it started (for tests and benchmarks). */
  private[sparkdl] val runs = new java.util.concurrent.atomic.AtomicLong
}
