package sparkdl.inference

import java.security.MessageDigest

/** The engines sparkdl runs models on, by the names params, confs and `model.json` use. */
object Engines {
  val TensorFlow = "tf"
  val Onnx = "onnx"

  /** `engine` param and conf values: one engine, or `auto` (measured, [[AutoBatchSize]]). */
  val Auto = "auto"
  val Values: Seq[String] = Seq(Auto, TensorFlow, Onnx)

  /** Which engine runs a model when neither the stage nor the session says. */
  val Conf = "spark.sparkdl.engine"

  /** The engine's name for people: in messages, logs and metrics. */
  def describe(engine: String): String = engine match {
    case TensorFlow => "TensorFlow"
    case Onnx => "ONNX Runtime"
    case other => other
  }

  /** The active session's conf [[Conf]] (checked), else `auto`. */
  def fromConf(): String =
    org.apache.spark.sql.SparkSession.getActiveSession.flatMap(_.conf.getOption(Conf))
      .filter(_.trim.nonEmpty).map(check(_, s"The Spark conf $Conf")).getOrElse(Auto)

  /** `value` checked against [[Values]] (any case); `what` names where it was given. */
  def check(value: String, what: String): String = {
    val v = value.trim.toLowerCase
    if (!Values.contains(v)) {
      throw new IllegalArgumentException(
        s"$what must be one of ${Values.mkString(", ")}; got '$value'")
    }
    v
  }
}

/**
 * One model in several forms that compute the same outputs from the same inputs under the same
 * tensor names, each run by its own engine (a named model's frozen graph for TensorFlow and its
 * ONNX form for ONNX Runtime, checked equal at export). Which form runs is measured per JVM
 * together with the batch size ([[AutoBatchSize]]): batches go to a form through
 * [[ModelSession.runOn]]. Tensors are described, and the driver's checks made, by the first form.
 */
final class EngineChoice(val forms: Seq[Model]) extends Model {

  require(forms.length >= 2 && forms.forall(_.engines.length == 1),
    "EngineChoice: two or more models of one engine each")

  lazy val hash: String = MessageDigest.getInstance("SHA-256")
    .digest(forms.map(_.hash).mkString("engines:", ",", "").getBytes("UTF-8"))
    .map(b => f"$b%02x").mkString

  def engines: Seq[String] = forms.map(_.engines.head)
  def sizeInBytes: Long = forms.map(_.sizeInBytes).sum
  def inputs: Seq[String] = forms.head.inputs
  def outputs: Seq[String] = forms.head.outputs

  private[sparkdl] def open(): ModelSession = new EngineChoiceSession(forms)

  override def inputInfo(name: String): TensorInfo = forms.head.inputInfo(name)
  override def outputInfo(name: String): TensorInfo = forms.head.outputInfo(name)
  override def checkOutput(name: String): Unit = forms.head.checkOutput(name)
  override def checkAllowed(): Unit = forms.foreach(_.checkAllowed())
  override def inputsNeeded(outputs: Seq[String]): Option[Seq[String]] =
    forms.head.inputsNeeded(outputs)
  override def sameTensor(a: String, b: String): Boolean = forms.head.sameTensor(a, b)

  override def equals(other: Any): Boolean = other match {
    case m: EngineChoice => m.hash == hash
    case _ => false
  }
  override def hashCode(): Int = hash.hashCode
  override def toString: String = s"EngineChoice(${forms.mkString(", ")})"
}

/**
 * The sessions of an [[EngineChoice]]'s forms, each opened on its first run. Once an engine is
 * chosen ([[keepEngine]]), the others are closed as soon as no run uses them, and a batch still
 * sent to one of them (measured before the choice, run after it) runs on the chosen one.
 */
private final class EngineChoiceSession(forms: Seq[Model]) extends ModelSession {

  private val sessions = new Array[ModelSession](forms.length) // guarded by this
  private val running = new Array[Int](forms.length) // guarded by this
  private var kept: Option[Int] = None // guarded by this
  @volatile private var closed = false

  private def acquire(engine: Int): (Int, ModelSession) = synchronized {
    if (closed) throw new IllegalStateException("the model's sessions are closed")
    val e = kept.getOrElse(engine)
    if (sessions(e) == null) sessions(e) = forms(e).open()
    running(e) += 1
    (e, sessions(e))
  }

  private def release(engine: Int): Unit = synchronized {
    running(engine) -= 1
    closeUnused()
  }

  /** Closes every session other than the kept one that no run uses. */
  private def closeUnused(): Unit = kept.foreach { k =>
    sessions.indices.filter(i => i != k && sessions(i) != null && running(i) == 0).foreach { i =>
      sessions(i).close()
      sessions(i) = null
    }
  }

  private def first[T](f: ModelSession => T): T = {
    val (e, session) = acquire(0)
    try f(session)
    finally release(e)
  }

  def inputInfo(name: String): TensorInfo = first(_.inputInfo(name))
  def outputInfo(name: String): TensorInfo = first(_.outputInfo(name))
  def inputNames: Seq[String] = first(_.inputNames)
  def outputNames: Seq[String] = first(_.outputNames)

  def run(feeds: Seq[Feed], outputs: Seq[String]): Seq[(Array[Long], Array[Float])] =
    first(_.run(feeds, outputs))

  override def run(feeds: Seq[Feed], outputs: Seq[String], control: RunControl)
      : Seq[(Array[Long], Array[Float])] =
    first(_.run(feeds, outputs, control))

  override def runOn(engine: Int, feeds: Seq[Feed], outputs: Seq[String], control: RunControl)
      : Seq[(Array[Long], Array[Float])] = {
    val (e, session) = acquire(engine)
    try session.run(feeds, outputs, control)
    finally release(e)
  }

  override def keepEngine(engine: Int): Unit = synchronized {
    kept = Some(engine)
    closeUnused()
  }

  def isClosed: Boolean = closed

  override def close(): Unit = synchronized {
    closed = true
    sessions.indices.foreach { i =>
      if (sessions(i) != null) sessions(i).close()
      sessions(i) = null
    }
  }
}
