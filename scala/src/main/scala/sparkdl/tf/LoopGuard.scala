package sparkdl.tf

import scala.jdk.CollectionConverters._

import org.tensorflow.proto.{
  AttrValue, DataType, FunctionDef, GraphDef, NodeDef, TensorProto, TensorShapeProto
}

/**
 * Makes a graph's loops stoppable. TensorFlow cannot stop a run in progress: its own
 * `timeout_in_ms` and a closed session both wait for the executor, and the executor never looks at
 * them while a loop spins (measured: a `while_loop(True)` runs on past its timeout). A graph is
 * code, so an untrusted one can hold a loop that never ends and keep an executor's cores forever.
 *
 * So before a graph with loops is loaded, each loop gets a check on every iteration: the condition
 * that decides whether the loop goes on first reads a flag (a boolean resource variable of the
 * session, [[FlagName]]) and fails the run with [[StoppedMarker]] when the flag is false. Loops of
 * both kinds are guarded: TensorFlow 1 frames (`LoopCond`: what sparkdl's frozen exports and Keras
 * recurrent layers become) and functional `While` / `StatelessWhile` ops (their `cond` function; a
 * stateless one becomes a `While`, since it now reads the flag). A graph without loops is left as
 * it is: every other op ends in a time bound by its input sizes, which
 * [[sparkdl.inference.BatchMemory]] bounds. The answers are unchanged: the check only adds a
 * control dependency. It costs three small ops per iteration, 1-2 µs: noticeable only for a loop
 * whose body does almost nothing.
 *
 * [[GraphSession]] clears the flag while a run it was asked to stop is in progress.
 */
private[tf] object LoopGuard {

  /** The session's flag: true lets loops run, false stops them at their next iteration. */
  val FlagName = "sparkdl_loops_may_run"

  /** In the error of a run whose loop saw the flag set. */
  val StoppedMarker = "sparkdl: the run was stopped"

  /** Feeds the flag's value ([[SetTarget]] assigns it). */
  val ValueName = s"$FlagName/value"

  /** The op that assigns [[ValueName]] to the flag. */
  val SetTarget = s"$FlagName/set"

  private val Prefix = s"$FlagName/guard"

  /** Whether `graph` holds a loop of either kind (in its nodes or its function library). */
  def hasLoops(graph: GraphDef): Boolean =
    graph.getNodeList.asScala.exists(n => isLoop(n.getOp)) ||
      graph.getLibrary.getFunctionList.asScala.exists(
        _.getNodeDefList.asScala.exists(n => isLoop(n.getOp)))

  private def isLoop(op: String): Boolean = op == "LoopCond" || op == "While" ||
    op == "StatelessWhile"

  /**
   * `graph` with every loop guarded and the flag's nodes added; `graph` itself when it has no loop.
   */
  def guard(graph: GraphDef): GraphDef = if (!hasLoops(graph)) graph
  else {
    val builder = graph.toBuilder
    guardFrames(builder)
    guardWhileOps(builder)
    builder.addNode(handle(FlagName, Nil))
    builder.addNode(node(ValueName, "Placeholder", Nil, "dtype" -> typeAttr(DataType.DT_BOOL),
        "shape" -> AttrValue.newBuilder().setShape(TensorShapeProto.getDefaultInstance).build()))
    builder.addNode(node(SetTarget, "AssignVariableOp", Seq(FlagName, ValueName),
        "dtype" -> typeAttr(DataType.DT_BOOL)))
    builder.build()
  }

  /**
   * TensorFlow 1 loops: `LoopCond(pred)` decides each iteration. The check's nodes take a control
   * input from `pred`'s node, so they live in the loop's frame and run once per iteration, and
   * `LoopCond` waits for the check. Frames inside functions are guarded the same way.
   */
  private def guardFrames(graph: GraphDef.Builder): Unit = {
    guardFrames(graph.getNodeBuilderList.asScala.toSeq, graph.addNode, (at, part) => s"$at/$part:0")
    graph.getLibraryBuilder.getFunctionBuilderList.asScala.foreach { f =>
      // function nodes name their outputs by argument: `node:output_arg:index`
      guardFrames(f.getNodeDefBuilderList.asScala.toSeq, f.addNodeDef,
        (at, part) => s"$at/$part:${outputArg(part)}:0")
    }
  }

  private def guardFrames(
      nodes: Seq[NodeDef.Builder],
      add: NodeDef => Any,
      tensor: (String, String) => String): Unit =
    nodes.filter(_.getOp == "LoopCond").zipWithIndex.foreach { case (loop, i) =>
      val at = s"$Prefix/$i"
      val inFrame = "^" + nodeOf(loop.getInput(0))
      checkNodes(part => s"$at/$part", Seq(inFrame), part => tensor(at, part)).foreach(add)
      loop.addInput(s"^$at/check")
    }

  private def outputArg(part: String): String = part match {
    case "flag" => "resource"
    case "read" => "value"
    case _ => "output"
  }

  /** The node name of a graph tensor reference (`a:1`, `^a`, `a`). */
  private def nodeOf(ref: String): String = ref.stripPrefix("^").split(':').head

  /**
   * Functional loops: each `cond` function a `While` / `StatelessWhile` calls (in the graph or in
   * any function) returns its answer only after the check has passed.
   */
  private def guardWhileOps(graph: GraphDef.Builder): Unit = {
    val whiles = graph.getNodeBuilderList.asScala.filter(n => isWhile(n.getOp)).toSeq ++
      graph.getLibraryBuilder.getFunctionBuilderList.asScala.flatMap(
        _.getNodeDefBuilderList.asScala)
        .filter(n => isWhile(n.getOp))
    whiles.foreach(_.setOp("While"))
    val conds = whiles.map(_.getAttrOrThrow("cond").getFunc.getName).toSet
    graph.getLibraryBuilder.getFunctionBuilderList.asScala.filter(f =>
      conds.contains(f.getSignature.getName))
      .foreach(guardCond)
  }

  private def isWhile(op: String): Boolean = op == "While" || op == "StatelessWhile"

  private def guardCond(cond: FunctionDef.Builder): Unit = {
    val out = cond.getSignature.getOutputArg(0)
    val answer = cond.getRetOrThrow(out.getName)
    val name = (part: String) => s"$Prefix/cond/$part"
    checkNodes(name, Nil, tensor = part => s"${name(part)}:${outputArg(part)}:0")
      .foreach(cond.addNodeDef)
    cond.addNodeDef(node(name("answer"), "Identity", Seq(answer, "^" + name("check")),
        "T" -> typeAttr(out.getType)))
    cond.putRet(out.getName, s"${name("answer")}:output:0")
    cond.getSignatureBuilder.setIsStateful(true)
  }

  /**
   * flag handle -> read -> Assert(flag, marker): the check, its nodes named by `name`,
   * `name("check")` last.
   */
  private def checkNodes(name: String => String, control: Seq[String], tensor: String => String)
      : Seq[NodeDef] = Seq(
    handle(name("flag"), control),
    node(
      name("read"), "ReadVariableOp", Seq(tensor("flag")), "dtype" -> typeAttr(DataType.DT_BOOL)),
    constant(name("marker"), control,
      TensorProto.newBuilder().setDtype(DataType.DT_STRING)
        .addStringVal(com.google.protobuf.ByteString.copyFromUtf8(StoppedMarker))),
    node(name("check"), "Assert", Seq(tensor("read"), tensor("marker")),
      "T" -> AttrValue.newBuilder().setList(
        AttrValue.ListValue.newBuilder().addType(DataType.DT_STRING)).build(),
      "summarize" -> AttrValue.newBuilder().setI(1).build()))

  private def handle(name: String, control: Seq[String]): NodeDef = node(
    name, "VarHandleOp", control,
    "dtype" -> typeAttr(DataType.DT_BOOL),
    "shape" -> AttrValue.newBuilder().setShape(TensorShapeProto.getDefaultInstance).build(),
    "shared_name" ->
      AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8(FlagName)).build(),
    "container" -> AttrValue.newBuilder().setS(com.google.protobuf.ByteString.EMPTY).build())

  private def constant(name: String, control: Seq[String], value: TensorProto.Builder): NodeDef =
    node(name, "Const", control, "dtype" -> typeAttr(value.getDtype),
      "value" -> AttrValue.newBuilder().setTensor(
        value.setTensorShape(TensorShapeProto.getDefaultInstance)).build())

  private def typeAttr(t: DataType): AttrValue = AttrValue.newBuilder().setType(t).build()

  /**
   * Every node the guard adds runs on the CPU, beside the flag (`Assert` has no GPU kernel of its
   * own).
   */
  private def node(name: String, op: String, inputs: Seq[String], attrs: (String, AttrValue)*)
      : NodeDef = {
    val b = NodeDef.newBuilder().setName(name).setOp(op).addAllInput(inputs.asJava)
      .setDevice("/device:CPU:0")
    attrs.foreach { case (k, v) => b.putAttr(k, v) }
    b.build()
  }
}
