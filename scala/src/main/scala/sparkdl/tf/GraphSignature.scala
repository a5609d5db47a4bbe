package sparkdl.tf

import scala.jdk.CollectionConverters._

import org.tensorflow.proto.{AttrValue, GraphDef}

import sparkdl.inference.TensorInfo

/**
 * What a GraphDef declares, read from its bytes without TensorFlow's runtime: its
 * placeholders (name, dtype, static shape) and which operations it holds. Enough for the
 * driver to check a stage's tensors; anything it cannot tell is left to a session.
 */
private[tf] final class GraphSignature private (
    placeholders: Map[String, TensorInfo],
    ops: Map[String, String],
    val opNodes: Map[String, String]) {

  /** The placeholder `name` (`op` or `op:0`), if the graph has one by that name. */
  def placeholder(name: String): Option[TensorInfo] = {
    val (op, index) = FrozenGraph.splitTensorName(name)
    if (index == 0) placeholders.get(op) else None
  }

  /** True when `name` is surely an output of the graph: output 0 of an operation that has outputs. */
  def hasOutput(name: String): Boolean = {
    val (op, index) = FrozenGraph.splitTensorName(name)
    index == 0 && ops.get(op).exists(_ != "NoOp")
  }
}

private[tf] object GraphSignature {

  def apply(graphDef: Array[Byte]): GraphSignature = {
    val parsed = GraphDef.parseFrom(graphDef)
    val nodes = parsed.getNodeList.asScala
    val placeholders = nodes.filter(_.getOp == "Placeholder").map { n =>
      val attrs = n.getAttrMap
      val dtype = Option(attrs.get("dtype")).map(_.getType.name().stripPrefix("DT_").toLowerCase).getOrElse("unknown")
      n.getName -> TensorInfo(s"${n.getName}:0", dtype, Option(attrs.get("shape")).flatMap(shape))
    }
    val functionNodes = parsed.getLibrary.getFunctionList.asScala.flatMap(_.getNodeDefList.asScala)
    // every op type, in the graph and in its function library, with one node that uses it
    val opNodes = (nodes ++ functionNodes).reverseIterator.map(n => n.getOp -> n.getName).toMap
    new GraphSignature(placeholders.toMap, nodes.map(n => n.getName -> n.getOp).toMap, opNodes)
  }

  private def shape(attr: AttrValue): Option[Seq[Long]] = {
    val s = attr.getShape
    if (s.getUnknownRank) None else Some(s.getDimList.asScala.map(_.getSize).toSeq)
  }
}
