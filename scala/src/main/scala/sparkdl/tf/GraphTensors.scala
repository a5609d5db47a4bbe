package sparkdl.tf

import java.util.concurrent.ConcurrentHashMap

import scala.jdk.CollectionConverters._
import scala.util.Using

import org.tensorflow.{Graph, GraphOperation}
import org.tensorflow.proto.GraphDef

import sparkdl.inference.TensorInfo

/**
 * Names, dtypes and static shapes of the tensors of `frozen` imported into `graph`, as TensorFlow's
 * shape inference gives them, with one set of messages for unknown names.
 */
private[tf] final class GraphTensors(graph: Graph, frozen: FrozenGraph) {

  /** The graph's placeholders: the tensors it can be fed. */
  lazy val placeholders: Seq[TensorInfo] =
    graph.operations().asScala.filter(_.`type`() == "Placeholder").map(op => info(op, 0))
      .toSeq.sortBy(_.name)

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
}

private[tf] object GraphTensors {

  /**
   * Imports `frozen` (or the `bytes` of a graph standing for it) into `graph`, failing with a
   * message naming it.
   */
  def importInto(graph: Graph, frozen: FrozenGraph, bytes: Array[Byte] = null): Unit =
    importInto(graph, frozen, parse(frozen, bytes))

  /** `definition` (of `frozen`, perhaps rewritten) into `graph`. */
  def importInto(graph: Graph, frozen: FrozenGraph, definition: GraphDef): Unit =
    try graph.importGraphDef(definition)
    catch {
      case e: Exception =>
        throw new GraphException(s"Could not load $frozen into TensorFlow: ${e.getMessage}", e)
    }

  /** `bytes` (default: `frozen`'s) as a GraphDef. */
  def parse(frozen: FrozenGraph, bytes: Array[Byte] = null): GraphDef =
    try GraphDef.parseFrom(Option(bytes).getOrElse(frozen.graphDef))
    catch {
      case e: Exception =>
        throw new GraphException(s"Could not load $frozen into TensorFlow: ${e.getMessage}", e)
    }

  private val outputs = new ConcurrentHashMap[(String, String), TensorInfo]()

  /**
   * The output `name` of `frozen` as shape inference sees it, without a session: the graph's
   * skeleton (its weights replaced by placeholders of their shapes, [[GraphSignature]]) is imported
   * on the driver, read and closed. Remembered per graph hash and name for the life of the JVM (a
   * few bytes each).
   */
  def outputInfo(frozen: FrozenGraph, name: String): TensorInfo = {
    val key = (frozen.hash, FrozenGraph.tensorName(name))
    Option(outputs.get(key)).getOrElse {
      val found = Using.resource(new Graph()) { g =>
        importInto(g, frozen, frozen.signature.skeleton)
        new GraphTensors(g, frozen).outputInfo(name)
      }
      if (outputs.size > 10000) outputs.clear()
      outputs.put(key, found)
      found
    }
  }
}
