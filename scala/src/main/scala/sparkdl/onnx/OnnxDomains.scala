package sparkdl.onnx

import com.google.protobuf.{CodedInputStream, WireFormat}

import sparkdl.inference.ModelException

/**
 * The operator domains an ONNX model imports (its `ModelProto.opset_import`, which every node's
 * domain must be in), read from the protobuf bytes. ONNX Runtime runs the standard domains and its
 * own built-in contrib ops (`com.microsoft`, which quantized models use); any other domain is a
 * custom operator library, native code that sparkdl never loads: such a model is refused on the
 * driver, naming the domain, unless allowed by the Spark conf `spark.sparkdl.onnx.allowDomains`
 * (comma-separated, or `*`).
 */
object OnnxDomains {

  val AllowDomainsConf = "spark.sparkdl.onnx.allowDomains"

  /** The standard ONNX domains and ONNX Runtime's built-in contrib ops. */
  val Standard: Set[String] =
    Set("", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training", "com.microsoft")

  private val ModelGraph = 7 // ModelProto.graph
  private val ModelOpsetImport = 8 // ModelProto.opset_import
  private val ModelFunctions = 25 // ModelProto.functions
  private val OpsetDomain = 1 // OperatorSetIdProto.domain
  private val GraphNode = 1 // GraphProto.node
  private val NodeOpType = 4 // NodeProto.op_type
  private val NodeAttribute = 5 // NodeProto.attribute
  private val NodeDomain = 7 // NodeProto.domain
  private val AttributeGraph = 6 // AttributeProto.g (If's branches, Loop's and Scan's bodies)
  private val AttributeGraphs = 11 // AttributeProto.graphs
  private val FunctionName = 1 // FunctionProto.name
  private val FunctionNode = 7 // FunctionProto.node
  private val FunctionOpsetImport = 9 // FunctionProto.opset_import
  private val FunctionDomain = 10 // FunctionProto.domain

  /** Graphs nested deeper than this (subgraphs of subgraphs...) are refused rather than read. */
  private val MaxDepth = 64

  /**
   * The domains `bytes` (a `ModelProto`) imports, at the top and inside its model-local functions,
   * less those its functions define: a function is ONNX nodes the model carries (as PyTorch's
   * exporter writes them), not native code. A domain stays custom where a node of the graph, a
   * subgraph or a function calls an op of it that no function defines.
   */
  def of(bytes: Array[Byte]): Seq[String] = {
    val imported = scala.collection.mutable.ArrayBuffer.empty[String]
    val functions = scala.collection.mutable.Set.empty[(String, String)]
    val calls = scala.collection.mutable.Set.empty[(String, String)]
    fields(CodedInputStream.newInstance(bytes)) {
      case (ModelOpsetImport, in) => imported += domainOf(in.readByteArray())
      case (ModelGraph, in) => nodes(in.readByteArray(), GraphNode, 0, calls)
      case (ModelFunctions, in) =>
        var (name, domain) = ("", "")
        val body = in.readByteArray()
        fields(CodedInputStream.newInstance(body)) {
          case (FunctionOpsetImport, f) => imported += domainOf(f.readByteArray())
          case (FunctionDomain, f) => domain = f.readString()
          case (FunctionName, f) => name = f.readString()
        }
        functions += ((domain, name))
        nodes(body, FunctionNode, 0, calls)
    }
    val local = functions.map(_._1).toSet
    val undefinedCalls = calls.filter { case (d, _) => local.contains(d) }.diff(functions).map(_._1)
    (imported.filterNot(local.contains) ++ undefinedCalls).distinct.toSeq
  }

  /**
   * Adds the (domain, op type) of every node under field `field` of `message`, subgraphs included.
   */
  private def nodes(message: Array[Byte], field: Int, depth: Int,
                    calls: scala.collection.mutable.Set[(String, String)]): Unit = {
    if (depth > MaxDepth)
      throw new ModelException(s"The ONNX model nests graphs more than $MaxDepth deep: refused")
    fields(CodedInputStream.newInstance(message)) {
      case (`field`, in) =>
        var (op, domain) = ("", "")
        fields(CodedInputStream.newInstance(in.readByteArray())) {
          case (NodeOpType, n) => op = n.readString()
          case (NodeDomain, n) => domain = n.readString()
          case (NodeAttribute, n) =>
            fields(CodedInputStream.newInstance(n.readByteArray())) {
              case (AttributeGraph | AttributeGraphs, a) =>
                nodes(a.readByteArray(), GraphNode, depth + 1, calls)
            }
        }
        calls += ((domain, op))
    }
  }

  private def domainOf(opset: Array[Byte]): String = {
    var domain = ""
    fields(CodedInputStream.newInstance(opset)) { case (OpsetDomain, in) =>
      domain = in.readString()
    }
    domain
  }

  /** Reads each length-delimited field `read` takes; skips every other field. */
  private def fields(in: CodedInputStream)(
      read: PartialFunction[(Int, CodedInputStream), Unit]): Unit = {
    in.setSizeLimit(Int.MaxValue)
    var tag = in.readTag()
    while (tag != 0) {
      val field = WireFormat.getTagFieldNumber(tag)
      if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED &&
          read.isDefinedAt((field, in)))
        read((field, in))
      else in.skipField(tag)
      tag = in.readTag()
    }
  }

  /** Fails, naming each domain outside [[Standard]] the active session does not allow. */
  def check(bytes: Array[Byte], what: String): Unit = {
    // bytes that do not parse are left to ONNX Runtime,
    // whose load error says so with the file's name
    val imported = try of(bytes)
    catch { case _: java.io.IOException => Nil }
    val custom = imported.filterNot(Standard.contains).distinct.sorted
    if (custom.nonEmpty) {
      val allowed = org.apache.spark.sql.SparkSession.getActiveSession
        .flatMap(_.conf.getOption(AllowDomainsConf))
        .toSeq.flatMap(_.split(",")).map(_.trim).toSet
      val left = if (allowed.contains("*")) Nil else custom.filterNot(allowed.contains)
      if (left.nonEmpty) {
        throw new ModelException(
          s"$what imports ONNX operator domains outside the standard ones " +
            s"(${left.mkString(", ")}): custom operators are native code from outside ONNX " +
            "Runtime, and sparkdl loads no custom operator library. Refused. If you trust this " +
            s"model, allow them with the Spark conf $AllowDomainsConf=${left.mkString(",")}.")
      }
    }
  }
}
