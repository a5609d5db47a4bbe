package sparkdl.tf

/**
 * What a graph may do: compute on its tensors, nothing else. A frozen graph can hold
 * TensorFlow ops that read or write files, run Python, print or talk to the network; a graph
 * file from an untrusted place (a downloaded model, a saved stage, a shared folder) must not run
 * them inside an executor. So every graph sparkdl builds is checked before any session exists:
 * its ops (those of its function library too) must be compute ops, i.e. none of [[SystemOps]] and
 * no op whose name says it reaches outside the tensors ([[SystemWords]]). Graphs exported by
 * `sparkdl.graph` and the named models pass.
 *
 * Opt-in for a trusted graph: the Spark conf (or JVM property) `spark.sparkdl.graph.allowOps`,
 * a comma-separated list of op types, or `*` for any.
 */
object GraphSafety {

  val AllowOpsConf = "spark.sparkdl.graph.allowOps"

  /** Ops that reach files, processes, Python or the terminal. */
  val SystemOps: Set[String] = Set(
    "ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst", "PyFunc", "PyFuncStateless", "EagerPyFunc",
    "Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice", "MergeV2Checkpoints",
    "ShardedFilename", "ShardedFilespec", "Print", "PrintV2", "LoadAndRemapMatrix",
    "GenerateVocabRemapping", "DecodeProtoV2", "EncodeProto", "InitializeTableFromTextFile",
    "InitializeTableFromTextFileV2", "OptimizeDataset", "CollectiveGather", "CollectiveReduce",
    "CollectiveBcastSend", "CollectiveBcastRecv", "_Send", "_Recv", "_HostSend", "_HostRecv", "Send", "Recv")

  /** Words in op type names of whole families that do I/O (readers, writers, summaries, datasets, debug, RPC). */
  val SystemWords: Seq[String] = Seq("File", "Reader", "Writer", "Summary", "Dataset", "Iterator", "PyFunc",
    "Debug", "Checkpoint", "Rpc", "Socket", "Tpu", "TPU", "Enqueue", "Dequeue", "Queue", "Bigtable",
    "Cloud", "Record")

  private def isSystem(op: String): Boolean = SystemOps.contains(op) || SystemWords.exists(op.contains)

  private def allowedByUser: Set[String] = {
    val fromSession = org.apache.spark.sql.SparkSession.getActiveSession.flatMap(_.conf.getOption(AllowOpsConf))
    val fromConf = Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption(AllowOpsConf))
    val fromProperty = Option(System.getProperty(AllowOpsConf.stripPrefix("spark.")))
    fromSession.orElse(fromConf).orElse(fromProperty).toSeq.flatMap(_.split(",")).map(_.trim).filter(_.nonEmpty).toSet
  }

  /** Fails, naming each refused op and a node that uses it, unless every op is allowed. */
  private[tf] def check(signature: GraphSignature, what: String): Unit = {
    val refused = signature.opNodes.keys.filter(isSystem).toSeq.sorted
    if (refused.nonEmpty) {
      val allowed = allowedByUser
      val left = if (allowed.contains("*")) Nil else refused.filterNot(allowed.contains)
      if (left.nonEmpty) {
        throw new GraphException(
          s"$what uses TensorFlow ops that reach outside the model (files, processes, Python or the network): " +
            left.map(op => s"$op (node '${signature.opNodes(op)}')").mkString(", ") + ". Refused: sparkdl runs " +
            s"compute ops only. If you trust this graph, allow them with the Spark conf $AllowOpsConf=" +
            s"${left.mkString(",")} (or * for any op).")
      }
    }
  }
}
