package sparkdl.tf

import scala.jdk.CollectionConverters._
import scala.util.Using

import org.tensorflow.{Graph, GraphOperation, Session}
import org.tensorflow.ndarray.Shape
import org.tensorflow.ndarray.buffer.DataBuffers
import org.tensorflow.proto.{ConfigProto, GraphDef}
import org.tensorflow.types.{TFloat32, TInt32}

import sparkdl.inference.{Feed, ModelSession, TensorInfo}

/**
 * One frozen graph loaded into one TensorFlow session. Thread-safe: TensorFlow's
 * `Session.run` may be called concurrently, so every task of a JVM shares one.
 * Obtain instances through [[sparkdl.inference.SessionCache]], which owns their lifetime.
 */
final class GraphSession private[tf] (val frozen: FrozenGraph, config: ConfigProto) extends ModelSession {

  private val graph = new Graph()
  private val session: Session =
    try {
      graph.importGraphDef(GraphDef.parseFrom(frozen.graphDef))
      new Session(graph, config)
    } catch {
      case e: Exception =>
        graph.close()
        throw new GraphException(s"Could not load $frozen into TensorFlow: ${e.getMessage}", e)
    }

  @volatile private var closed = false

  def isClosed: Boolean = closed

  /** The graph's placeholders: the tensors it can be fed. */
  lazy val placeholders: Seq[TensorInfo] =
    graph.operations().asScala.filter(_.`type`() == "Placeholder").map(op => info(op, 0)).toSeq.sortBy(_.name)

  private def info(op: GraphOperation, index: Int): TensorInfo = {
    val out = op.output[org.tensorflow.types.family.TType](index)
    val shape = out.shape()
    val dims = if (shape.isUnknown) None else Some(shape.asArray().toSeq)
    TensorInfo(s"${op.name()}:$index", out.dataType().name().stripPrefix("DT_").toLowerCase, dims)
  }

  /** Describes the input tensor `name`, or fails naming it and listing the graph's placeholders. */
  def inputInfo(name: String): TensorInfo = {
    val (opName, index) = FrozenGraph.splitTensorName(name)
    Option(graph.operation(opName)).filter(op => op.`type`() == "Placeholder" && index == 0)
      .map(info(_, index))
      .getOrElse(throw new GraphException(
          s"Input tensor '$name' is not a placeholder of the graph. " +
            s"The graph's placeholders are: ${placeholders.mkString(", ")}"))
  }

  /** Describes the output tensor `name`, or fails naming it and listing candidate outputs. */
  def outputInfo(name: String): TensorInfo = {
    val (opName, index) = FrozenGraph.splitTensorName(name)
    Option(graph.operation(opName)).filter(op => index < op.numOutputs())
      .map(info(_, index))
      .getOrElse(throw new GraphException(
          s"Output tensor '$name' is not in the graph. Its declared outputs are " +
            s"${frozen.outputs.mkString("[", ", ", "]")}; its terminal operations are " +
            s"${terminalOps.mkString("[", ", ", "]")}"))
  }

  /** Operations whose outputs nobody consumes: the usual candidates for outputs. */
  private def terminalOps: Seq[String] =
    graph.operations().asScala
      .filter(op => op.numOutputs() > 0 && op.numConsumers() == 0 && op.`type`() != "NoOp")
      .map(op => s"${op.name()}:0").toSeq.sorted.take(20)

  /** Runs the graph once; closes every native tensor (inputs and results) before returning. */
  def run(feeds: Seq[Feed], outputs: Seq[String]): Seq[(Array[Long], Array[Float])] = {
    if (closed) throw new IllegalStateException(s"Session for $frozen is closed")
    Feed.checkSizes(feeds)
    val tensors = scala.collection.mutable.ArrayBuffer.empty[org.tensorflow.Tensor]
    try {
      feeds.foreach { f =>
        tensors +=
          (if (f.ints != null) TInt32.tensorOf(Shape.of(f.shape: _*), DataBuffers.of(f.ints, true, false))
           else TFloat32.tensorOf(Shape.of(f.shape: _*), DataBuffers.of(f.data, true, false)))
      }
      val runner = session.runner()
      feeds.zip(tensors).foreach { case (f, t) => runner.feed(FrozenGraph.tensorName(f.tensor), t) }
      outputs.foreach(o => runner.fetch(FrozenGraph.tensorName(o)))
      val result = try runner.run()
      catch {
        case e: Exception =>
          throw new GraphException(
            s"TensorFlow failed running $frozen on inputs " +
              feeds.map(f => s"${f.tensor} ${f.shape.mkString("[", ",", "]")}").mkString(", ") +
              s", fetching ${outputs.mkString("[", ", ", "]")}: ${e.getMessage}", e)
      }
      Using.resource(result) { r =>
        outputs.indices.map { i =>
          r.get(i) match {
            case t: TFloat32 =>
              val out = new Array[Float](t.size().toInt)
              t.copyTo(DataBuffers.of(out, false, false))
              (t.shape().asArray(), out)
            case t =>
              throw new GraphException(
                s"Output '${outputs(i)}' of $frozen is ${t.dataType()}, only float32 outputs are supported")
          }
        }
      }
    } finally tensors.foreach(_.close())
  }

  override def close(): Unit = synchronized {
    if (!closed) {
      closed = true
      session.close()
      graph.close()
    }
  }
}
