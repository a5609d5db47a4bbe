package sparkdl.tf

/**
 * What a graph may do: compute on its tensors, nothing else. A frozen graph is code: it can hold
 * TensorFlow ops that read or write files, run Python, end the process (`Abort`), wait on other
 * processes (collectives) or talk to the network; a graph file from an untrusted place (a
 * downloaded model, a saved stage, a shared folder) must not run them inside an executor. So every
 * graph is checked against an allow-list, [[AllowedOps]]: the op types of the graphs sparkdl
 * exports (the named models, the text encoder, Keras layers of every common kind, everyday tensor
 * math), measured by `tools/measure_tf_ops.py` into `sparkdl/tf/allowed-ops.txt`. Any other op
 * (those of the graph's function library too) is refused, naming it, before anything runs: when the
 * graph is built, and again on the driver for each query with that session's conf, so an opt-in of
 * one session never carries over to another through a cached graph.
 *
 * Opt-in for a trusted graph: the Spark conf (or JVM property) `spark.sparkdl.graph.allowOps`, a
 * comma-separated list of op types, or `*` for any.
 */
object GraphSafety {

  val AllowOpsConf = "spark.sparkdl.graph.allowOps"

  /** The op types any graph may use (the resource `sparkdl/tf/allowed-ops.txt`). */
  lazy val AllowedOps: Set[String] = {
    val in = getClass.getResourceAsStream("/sparkdl/tf/allowed-ops.txt")
    require(in != null, "sparkdl/tf/allowed-ops.txt is missing from sparkdl's jar")
    try scala.io.Source.fromInputStream(in, "UTF-8").getLines().map(_.trim)
        .filter(l => l.nonEmpty && !l.startsWith("#")).toSet
    finally in.close()
  }

  /** Ops that reach files, processes, Python or the terminal (named as such in the refusal). */
  val SystemOps: Set[String] = Set(
    "ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst", "PyFunc", "PyFuncStateless",
    "EagerPyFunc",
    "Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice", "MergeV2Checkpoints",
    "ShardedFilename", "ShardedFilespec", "Print", "PrintV2", "LoadAndRemapMatrix",
    "GenerateVocabRemapping", "DecodeProtoV2", "EncodeProto", "InitializeTableFromTextFile",
    "InitializeTableFromTextFileV2", "OptimizeDataset", "CollectiveGather", "CollectiveReduce",
    "CollectiveBcastSend", "CollectiveBcastRecv", "_Send", "_Recv", "_HostSend", "_HostRecv",
    "Send", "Recv",
    "Abort")

  /**
   * Words in op type names of whole families that do I/O (readers, writers, summaries, datasets,
   * debug, RPC).
   */
  val SystemWords: Seq[String] = Seq(
    "File", "Reader", "Writer", "Summary", "Dataset", "Iterator", "PyFunc",
    "Debug", "Checkpoint", "Rpc", "Socket", "Tpu", "TPU", "Enqueue", "Dequeue", "Queue", "Bigtable",
    "Cloud", "Record", "Collective")

  private def isSystem(op: String): Boolean = SystemOps.contains(op) ||
    SystemWords.exists(op.contains)

  /**
   * The ops the active session (else the Spark conf, else the JVM property) allows beyond
   * [[AllowedOps]].
   */
  private def allowedByUser: Set[String] = {
    val fromSession =
      org.apache.spark.sql.SparkSession.getActiveSession.flatMap(_.conf.getOption(AllowOpsConf))
    val fromConf = Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption(AllowOpsConf))
    val fromProperty = Option(System.getProperty(AllowOpsConf.stripPrefix("spark.")))
    fromSession.orElse(fromConf).orElse(fromProperty).toSeq.flatMap(_.split(","))
      .map(_.trim).filter(_.nonEmpty).toSet
  }

  /**
   * Fails, naming each refused op and a node that uses it, unless every op is allowed; and on
   * recursion.
   */
  private[tf] def check(signature: GraphSignature, what: String): Unit = {
    signature.callCycle.foreach { cycle =>
      throw new GraphException(
        s"$what has functions that call themselves (${cycle.mkString(" -> ")}). Refused: " +
          "TensorFlow has no recursion, it would instantiate calls until the process dies.")
    }
    val refused = signature.opNodes.keys.filterNot(AllowedOps.contains).toSeq.sorted
    if (refused.nonEmpty) {
      val allowed = allowedByUser
      val left = if (allowed.contains("*")) Nil else refused.filterNot(allowed.contains)
      if (left.nonEmpty) {
        val (system, other) = left.partition(isSystem)
        def named(ops: Seq[String]) =
          ops.map(op => s"$op (node '${signature.opNodes(op)}')").mkString(", ")
        val parts = Seq(
          if (system.isEmpty) ""
          else
            "TensorFlow ops that reach outside the model (files, " +
              s"processes, Python or the network): ${named(system)}",
          if (other.isEmpty) ""
          else
            "TensorFlow ops outside the compute ops sparkdl allows (those of the named " +
              s"models, Keras layers and tensor math): ${named(other)}").filter(_.nonEmpty)
        throw new GraphException(
          s"$what uses ${parts.mkString("; and ")}. Refused: a model file is code, and " +
            "sparkdl runs known compute ops only. If you trust this graph, allow them " +
            s"with the Spark conf $AllowOpsConf=${left.mkString(",")} (or * for any op).")
      }
    }
  }
}
