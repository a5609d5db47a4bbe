package sparkdl.tf

import scala.jdk.CollectionConverters._

import com.google.protobuf.CodedInputStream
import org.tensorflow.proto.{AttrValue, GraphDef, NodeDef}

import sparkdl.inference.TensorInfo

/**
 * What a GraphDef declares, read from its bytes without TensorFlow's runtime: its placeholders
 * (name, dtype, static shape) and which operations it holds. Enough for the driver to check a
 * stage's tensors; anything it cannot tell is left to a session.
 */
private[tf] final class GraphSignature private (
    placeholders: Map[String, TensorInfo],
    ops: Map[String, String],
    inputsOf: Map[String, Seq[String]],
    val opNodes: Map[String, String],
    val skeleton: Array[Byte],
    val callCycle: Option[Seq[String]]) {

  /**
   * The placeholders (`op:0`) that computing `outputs` reads, through data and control inputs: all
   * of them must be fed for a run to succeed.
   */
  def placeholdersNeeded(outputs: Seq[String]): Seq[String] = {
    val seen = scala.collection.mutable.Set.empty[String]
    var frontier = outputs.map(o => FrozenGraph.splitTensorName(o)._1).toList
    while (frontier.nonEmpty) {
      val op = frontier.head
      frontier = frontier.tail
      if (seen.add(op)) frontier = inputsOf.getOrElse(op, Nil).toList ++ frontier
    }
    placeholders.keys.filter(seen.contains).toSeq.sorted.map(_ + ":0")
  }

  /** The placeholder `name` (`op` or `op:0`), if the graph has one by that name. */
  def placeholder(name: String): Option[TensorInfo] = {
    val (op, index) = FrozenGraph.splitTensorName(name)
    if (index == 0) placeholders.get(op) else None
  }

  /**
   * True when `name` is surely an output of the graph: output 0 of an operation that has outputs.
   */
  def hasOutput(name: String): Boolean = {
    val (op, index) = FrozenGraph.splitTensorName(name)
    index == 0 && ops.get(op).exists(_ != "NoOp")
  }
}

private[tf] object GraphSignature {

  /** Constants larger than this (weights) become placeholders of their shape in the skeleton. */
  private val SkeletonConstBytes = 1024

  def apply(graphDef: Array[Byte]): GraphSignature = {
    val in = CodedInputStream.newInstance(graphDef)
    in.enableAliasing(true) // the constants' bytes stay in `graphDef`, not copied (VGG16: 550 MB)
    val parsed = GraphDef.parseFrom(in)
    val nodes = parsed.getNodeList.asScala
    val placeholders = nodes.filter(_.getOp == "Placeholder").map { n =>
      val attrs = n.getAttrMap
      val dtype = Option(attrs.get("dtype"))
        .map(_.getType.name().stripPrefix("DT_").toLowerCase).getOrElse("unknown")
      n.getName -> TensorInfo(s"${n.getName}:0", dtype, Option(attrs.get("shape")).flatMap(shape))
    }
    val functionNodes = parsed.getLibrary.getFunctionList.asScala.flatMap(_.getNodeDefList.asScala)
    // every op type, in the graph and in its function library, with one node that uses it
    val opNodes = (nodes ++ functionNodes).reverseIterator.map(n => n.getOp -> n.getName).toMap
    // a node's inputs are "op", "op:1" or "^op" (control); only the op matters here
    val inputsOf = nodes.map(n =>
      n.getName -> n.getInputList.asScala.map(_.stripPrefix("^").takeWhile(_ != ':')).toSeq)
    new GraphSignature(
      placeholders.toMap, nodes.map(n => n.getName -> n.getOp).toMap, inputsOf.toMap, opNodes,
      skeletonOf(parsed), callCycle(parsed))
  }

  /**
   * Functions of the library that call themselves, directly or through others (`f -> g -> f`), by a
   * node's op or a function-valued attribute (`PartitionedCall`'s `f`, `While`'s `cond` and
   * `body`): TensorFlow has no recursion, it instantiates calls until the process dies.
   */
  private def callCycle(parsed: GraphDef): Option[Seq[String]] = {
    val functions = parsed.getLibrary.getFunctionList.asScala
    val names = functions.map(_.getSignature.getName).toSet
    def called(attr: AttrValue): Seq[String] =
      (if (attr.hasFunc) Seq(attr.getFunc.getName) else Nil) ++
        attr.getList.getFuncList.asScala.map(_.getName)
    val calls = functions.map { f =>
      f.getSignature.getName -> f.getNodeDefList.asScala.flatMap { n =>
        (n.getOp +: n.getAttrMap.values.asScala.toSeq.flatMap(called)).filter(names.contains)
      }.distinct.toSeq
    }.toMap
    // depth-first: a function met again while on the current path closes a cycle
    val done = scala.collection.mutable.Set.empty[String]
    def visit(f: String, path: List[String]): Option[Seq[String]] =
      if (path.contains(f)) Some((f :: path.takeWhile(_ != f) ::: List(f)).reverse)
      else if (done.contains(f)) None
      else {
        val found = calls.getOrElse(f, Nil).iterator.map(visit(_, f :: path))
          .collectFirst { case Some(c) => c }
        done += f
        found
      }
    names.iterator.map(visit(_, Nil)).collectFirst { case Some(c) => c }
  }

  /**
   * The graph with every large constant replaced by a placeholder of its dtype and shape: the same
   * static shapes and dtypes under TensorFlow's shape inference (shapes that depend on values come
   * from small constants, which stay), a few KB to import on the driver.
   */
  private def skeletonOf(parsed: GraphDef): Array[Byte] = {
    val b = parsed.toBuilder
    (0 until b.getNodeCount).foreach { i =>
      val n = b.getNode(i)
      val value = n.getAttrMap.get("value")
      if (n.getOp == "Const" && value != null && value.getSerializedSize > SkeletonConstBytes) {
        b.setNode(i,
          NodeDef.newBuilder().setName(n.getName).setOp("Placeholder").setDevice(n.getDevice)
            .putAttr("dtype", AttrValue.newBuilder().setType(value.getTensor.getDtype).build())
            .putAttr(
              "shape", AttrValue.newBuilder().setShape(value.getTensor.getTensorShape).build())
            .build())
      }
    }
    b.build().toByteArray
  }

  private def shape(attr: AttrValue): Option[Seq[Long]] = {
    val s = attr.getShape
    if (s.getUnknownRank) None else Some(s.getDimList.asScala.map(_.getSize).toSeq)
  }
}
