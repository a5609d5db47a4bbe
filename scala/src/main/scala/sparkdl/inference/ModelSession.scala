package sparkdl.inference

/**
 * What the driver knows about a tensor of a model: its name, dtype and static shape
 * (`-1` marks an unknown dimension; `None` an unknown rank).
 */
final case class TensorInfo(name: String, dtype: String, shape: Option[Seq[Long]]) {
  def shapeString: String =
    shape.map(_.map(d => if (d < 0) "?" else d.toString).mkString("[", ",", "]")).getOrElse("<unknown rank>")
  override def toString: String = s"$name $dtype $shapeString"
}

/**
 * One input of a run: a tensor named `tensor` of `shape`, its row-major `values` an
 * `Array[Float]` (float32), `Array[Double]` (float64), `Array[Int]` (int32) or `Array[Long]`
 * (int64). An engine may widen exactly (int32 to int64, float32 to float64) to the type its
 * model declares, never narrow.
 */
final case class Feed(tensor: String, shape: Array[Long], values: AnyRef) {

  /** "float", "double", "int32" or "int64". */
  def dtype: String = values match {
    case _: Array[Float] => "float"
    case _: Array[Double] => "double"
    case _: Array[Int] => "int32"
    case _: Array[Long] => "int64"
    case other => throw new IllegalArgumentException(s"Feed '$tensor': unsupported values ${other.getClass}")
  }

  def length: Int = java.lang.reflect.Array.getLength(values)
}

/**
 * A model as the executors receive it: immutable, serializable bytes that an engine turns
 * into a [[ModelSession]]. Identified in every JVM by `hash`, so [[SessionCache]] loads each
 * model once per JVM whatever object carries it.
 */
trait Model extends Serializable {

  /** Identifies the model's content in every JVM (e.g. the SHA-256 of its bytes). */
  def hash: String

  /** Size of the serialized model: what the session cache budgets by. */
  def sizeInBytes: Long

  /** The inputs a caller feeds and the outputs it fetches unless told otherwise. */
  def inputs: Seq[String]
  def outputs: Seq[String]

  /** Loads the model into a new session of its engine. Called by [[SessionCache]] only. */
  private[sparkdl] def open(): ModelSession

  /** Describes the input `name`, or fails naming it and listing the model's inputs. */
  def inputInfo(name: String): TensorInfo = SessionCache.withSession(this)(_.inputInfo(name))

  /** Describes the output `name` (with its static shape), or fails naming it and listing candidates. */
  def outputInfo(name: String): TensorInfo = SessionCache.withSession(this)(_.outputInfo(name))

  /** Fails, naming it and listing candidates, unless `name` is an output of the model. */
  def checkOutput(name: String): Unit = outputInfo(name)

  /**
   * Fails when the model uses what the active session does not allow (ops outside TensorFlow's
   * allow-list, ONNX operator domains outside the standard ones): called on the driver for every
   * query, so the session's own conf decides, whatever an earlier query allowed.
   */
  def checkAllowed(): Unit = ()

  /** The inputs computing `outputs` reads (all must be fed), where the engine can tell without running. */
  def inputsNeeded(outputs: Seq[String]): Option[Seq[String]] = None

  /** Whether two names denote one tensor (TensorFlow: `x` is `x:0`). */
  def sameTensor(a: String, b: String): Boolean = a == b

  /**
   * Checks on the driver, before any job, what would otherwise fail in every task: feeding
   * `fed` and fetching `fetched` must feed every input the outputs read, and each output must
   * be float32 with the batch as its first dimension. The messages are those a task would give.
   */
  def checkRun(fed: Seq[String], fetched: Seq[String]): Unit = {
    inputsNeeded(fetched).getOrElse(Nil).filterNot(n => fed.exists(sameTensor(_, n))).headOption.foreach { n =>
      val in = inputInfo(n)
      throw new ModelException(
        s"You must feed a value for input '${in.name}' (${in.dtype} ${in.shapeString}): the outputs " +
          s"${fetched.mkString("[", ", ", "]")} read it, but only ${fed.mkString("[", ", ", "]")} " +
          "are fed. A model given to this stage must take exactly the inputs the stage feeds.")
    }
    lazy val batchFirst = fed.forall(f => inputInfo(f).shape.forall(_.headOption.forall(_ < 0)))
    fetched.foreach { name =>
      val out = outputInfo(name)
      if (out.dtype != "float") {
        throw new ModelException(s"Output '$name' is ${out.dtype}, only float32 outputs are supported")
      }
      if (out.shape.exists(s => s.isEmpty || (s.head >= 0 && batchFirst))) {
        throw new ModelException(
          s"Output '$name' has shape ${out.shapeString}; its first dimension must be the batch " +
            "(unknown, as the inputs' first dimension)")
      }
    }
  }
}

/**
 * A model loaded into one engine session. Thread-safe: every task of a JVM shares one
 * (obtained through [[SessionCache]], which owns its lifetime).
 */
trait ModelSession extends AutoCloseable {

  def inputInfo(name: String): TensorInfo

  def outputInfo(name: String): TensorInfo

  /**
   * Runs the model once and fetches `outputs`: one flat float array per
   * output with its shape. Every native buffer is released before this returns, also on failure.
   */
  def run(feeds: Seq[Feed], outputs: Seq[String]): Seq[(Array[Long], Array[Float])]

  /**
   * [[run]], stoppable through `control` where the session can end a run in progress (ONNX Runtime,
   * TensorFlow graphs with loops); by default it cannot, and `control` is not used.
   */
  def run(feeds: Seq[Feed], outputs: Seq[String], control: RunControl): Seq[(Array[Long], Array[Float])] =
    run(feeds, outputs)

  /** Runs the model once with a single input (row-major `data` of `shape`). */
  final def run(input: String, shape: Array[Long], data: Array[Float], outputs: Seq[String])
      : Seq[(Array[Long], Array[Float])] =
    run(Seq(Feed(input, shape, data)), outputs)

  def isClosed: Boolean
}

object Feed {

  /** Fails unless every feed's data fills its shape exactly (checked before an engine runs). */
  def checkSizes(feeds: Seq[Feed]): Unit = feeds.foreach { f =>
    val expected = f.shape.product
    require(expected == f.length.toLong,
      s"Batch for '${f.tensor}' has ${f.length} ${f.dtype} values but shape ${f.shape.mkString("[", ",", "]")} " +
        s"needs $expected")
  }

  /** What a failed run says, for every engine: which engine and model, the inputs' shapes, the outputs and why. */
  def runFailure(engine: String, model: Any, feeds: Seq[Feed], outputs: Seq[String], cause: Exception): String =
    s"$engine failed running $model on inputs " +
      feeds.map(f => s"${f.tensor} ${f.shape.mkString("[", ",", "]")}").mkString(", ") +
      s", fetching ${outputs.mkString("[", ", ", "]")}: ${cause.getMessage}"
}

/** Raised when a model cannot be used as asked: unknown tensor, wrong dtype or shape, engine failure. */
class ModelException(message: String, cause: Throwable = null) extends IllegalArgumentException(message, cause)
