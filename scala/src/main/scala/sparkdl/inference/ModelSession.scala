package sparkdl.inference

/**
 * A model loaded into one engine session. Thread-safe: every task of a JVM shares one (obtained
 * through [[SessionCache]], which owns its lifetime).
 */
trait ModelSession extends AutoCloseable {

  def inputInfo(name: String): TensorInfo

  def outputInfo(name: String): TensorInfo

  /** The model's inputs, in its order (what it can be fed). */
  def inputNames: Seq[String]

  /** The model's outputs, in its order (a TensorFlow graph: those named with it). */
  def outputNames: Seq[String]

  /**
   * Runs the model once and fetches `outputs`: one flat float array per output with its shape.
   * Every native buffer is released before this returns, also on failure.
   */
  def run(feeds: Seq[Feed], outputs: Seq[String]): Seq[(Array[Long], Array[Float])]

  /**
   * [[run]], stoppable through `control` where the session can end a run in progress (ONNX Runtime,
   * TensorFlow graphs with loops); by default it cannot, and `control` is not used.
   */
  def run(feeds: Seq[Feed], outputs: Seq[String], control: RunControl)
      : Seq[(Array[Long], Array[Float])] =
    run(feeds, outputs)

  /**
   * [[run]] on the model's form `engine` (an index into its `Model.engines`): a session of a model
   * with one form runs everything itself.
   */
  def runOn(engine: Int, feeds: Seq[Feed], outputs: Seq[String], control: RunControl)
      : Seq[(Array[Long], Array[Float])] =
    run(feeds, outputs, control)

  /**
   * The engine `engine` was chosen ([[AutoBatchSize]]): a session holding several forms may free
   * the others. A session of one form has nothing to free.
   */
  def keepEngine(engine: Int): Unit = ()

  /** Runs the model once with a single input (row-major `data` of `shape`). */
  final def run(input: String, shape: Array[Long], data: Array[Float], outputs: Seq[String])
      : Seq[(Array[Long], Array[Float])] =
    run(Seq(Feed(input, shape, data)), outputs)

  def isClosed: Boolean
}
