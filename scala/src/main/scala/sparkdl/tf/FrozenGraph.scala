package sparkdl.tf

import java.security.MessageDigest

import sparkdl.inference.{Model, ModelSession, TensorInfo}

/**
 * A TensorFlow graph with every variable folded into a constant (a "frozen" GraphDef), plus the
 * names of the tensors a caller feeds and fetches.
 *
 * Instances are immutable and serializable, so they travel to executors by broadcast. Equality and
 * the session cache key are the SHA-256 of the bytes. TensorFlow Java runs it ([[GraphSession]]).
 *
 * @param graphDef
 *   serialized `tensorflow.GraphDef`
 * @param inputs
 *   names of the tensors fed (e.g. `input:0`)
 * @param outputs
 *   names of the tensors fetched (e.g. `output:0`)
 */
final class FrozenGraph(
    val graphDef: Array[Byte],
    val inputs: Seq[String],
    val outputs: Seq[String]) extends Model {

  require(graphDef != null && graphDef.nonEmpty, "FrozenGraph: the GraphDef bytes are empty")

  /** Hex SHA-256 of the GraphDef bytes: identifies the graph in every JVM. */
  lazy val hash: String =
    MessageDigest.getInstance("SHA-256").digest(graphDef).map(b => f"$b%02x").mkString

  def engines: Seq[String] = Seq(sparkdl.inference.Engines.TensorFlow)

  def sizeInBytes: Long = graphDef.length.toLong

  private[sparkdl] def open(): ModelSession = new GraphSession(this, TFConfig.sessionConfig)

  /**
   * Placeholders and operations read from the bytes: the driver checks tensors without a session.
   */
  @transient private[tf] lazy val signature = GraphSignature(graphDef)

  // before anything can run it: compute ops only
  // (GraphSafety). Deserialized copies (executors) skip this.
  checkAllowed()

  /**
   * [[GraphSafety]] with the active session's conf: when built, and for every query (a cached graph
   * too).
   */
  override def checkAllowed(): Unit =
    GraphSafety.check(signature, s"The graph (sha256 ${hash.take(12)})")

  /**
   * From the GraphDef alone; a name it does not know goes to a session, whose error lists the
   * placeholders.
   */
  override def inputInfo(name: String): TensorInfo =
    signature.placeholder(name).getOrElse(super.inputInfo(name))

  override def checkOutput(name: String): Unit =
    if (!signature.hasOutput(name)) super.checkOutput(name)

  /**
   * By TensorFlow's shape inference on a graph imported for the purpose (no session, nothing kept).
   */
  override def outputInfo(name: String): TensorInfo = GraphTensors.outputInfo(this, name)

  override def inputsNeeded(outputs: Seq[String]): Option[Seq[String]] =
    Some(signature.placeholdersNeeded(outputs))

  override def sameTensor(a: String, b: String): Boolean =
    FrozenGraph.tensorName(a) == FrozenGraph.tensorName(b)

  override def equals(other: Any): Boolean = other match {
    case g: FrozenGraph => g.hash == hash && g.inputs == inputs && g.outputs == outputs
    case _ => false
  }

  override def hashCode(): Int = hash.hashCode

  override def toString: String =
    s"FrozenGraph(${graphDef.length} bytes, sha256=${hash.take(12)}, " +
      s"inputs=${inputs.mkString("[", ",", "]")}, outputs=${outputs.mkString("[", ",", "]")})"
}

object FrozenGraph {
  def apply(graphDef: Array[Byte], inputs: Seq[String], outputs: Seq[String]): FrozenGraph =
    new FrozenGraph(graphDef, inputs, outputs)

  /** Normalises `name` to `op:index` form (`input` -> `input:0`). */
  def tensorName(name: String): String = if (name.contains(":")) name else s"$name:0"

  /** Splits a tensor name into its operation name and output index. */
  def splitTensorName(name: String): (String, Int) = {
    val full = tensorName(name)
    val i = full.lastIndexOf(':')
    val idx = full.substring(i + 1)
    require(
      idx.nonEmpty && idx.forall(_.isDigit), s"'$name' is not a tensor name of the form op:index")
    (full.substring(0, i), idx.toInt)
  }
}
