package sparkdl

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.SparkSession

import sparkdl.ml.HasFrozenGraph
import sparkdl.models.NamedImageModels
import sparkdl.sql.SparkdlExtensions
import sparkdl.tf.FrozenGraph

/**
 * The entry points only the Python package calls (through py4j): Java collections and byte arrays
 * in, positional arguments only. Scala and Java users have the typed API.
 */
private[sparkdl] object PythonAPI {

  private def graph(graphDef: Array[Byte], inputs: java.util.List[String],
                    outputs: java.util.List[String]) =
    FrozenGraph(graphDef, inputs.asScala.toSeq, outputs.asScala.toSeq)

  def setGraph(stage: HasFrozenGraph, graphDef: Array[Byte], inputs: java.util.List[String],
               outputs: java.util.List[String]): HasFrozenGraph =
    stage.setGraph(graph(graphDef, inputs, outputs))

  /**
   * sparkdl's SQL functions and batched planning in a session started without the jar
   * ([[SparkdlExtensions]]).
   */
  def installSql(spark: SparkSession): Unit = SparkdlExtensions.install(spark)

  def registerGraph(name: String, graphDef: Array[Byte], inputs: java.util.List[String],
                    outputs: java.util.List[String]): Unit =
    sparkdl.tf.GraphFiles.register(name, graph(graphDef, inputs, outputs))

  def namedModelNames(): java.util.List[String] = NamedImageModels.names.asJava

  /**
   * The export contract ([[sparkdl.models.ExportFolder.contract]]): Python's must equal it (a test
   * compares).
   */
  def exportContract(): java.util.Map[String, String] = sparkdl.models.ExportFolder.contract.asJava

  /**
   * {engine: model runs} of a DataFrame's model nodes once it has run
   * ([[sparkdl.sql.ModelEvalExec]]'s metrics).
   */
  def modelRunsByEngine(df: org.apache.spark.sql.DataFrame): java.util.Map[String, java.lang.Long] =
    sparkdl.sql.ModelEvalExec.runsByEngine(df.queryExecution.executedPlan)
      .map { case (k, v) => k -> java.lang.Long.valueOf(v) }.asJava

  /**
   * Every engine and batch size chosen in this JVM, one line each: `label<TAB>engine<TAB>size<TAB>`
   * then `engine:size=ms per row` of each candidate measured, space-separated.
   */
  def autoChoices(): java.util.List[String] =
    sparkdl.inference.AutoBatchSize.choices.map { case (label, engine, size, measured) =>
      s"$label\t$engine\t$size\t" + measured.toSeq.sorted.map { case ((e, s), ms) =>
        f"$e:$s=$ms%.3f"
      }.mkString(" ")
    }.asJava

  /**
   * {executor id: models loaded by its JVM since it started} (tests: each model loads once per
   * JVM), from enough one-row tasks that every executor runs some.
   */
  def modelLoadsPerExecutor(spark: SparkSession): java.util.Map[String, java.lang.Long] = {
    val n = spark.sparkContext.defaultParallelism * 8
    spark.sparkContext.parallelize(0 until n, n)
      .mapPartitions(_ =>
        Iterator(
          org.apache.spark.SparkEnv.get.executorId -> sparkdl.inference.SessionCache.loadCount))
      .collect().toMap.map { case (k, v) => k -> java.lang.Long.valueOf(v) }.asJava
  }

  /**
   * Token ids of each text, one line of space-separated ids per text (tests compare them with
   * Hugging Face's).
   */
  def tokenize(vocabFile: String, lowercase: Boolean, stripAccents: Boolean, chineseChars: Boolean,
               maxLength: Int,
               texts: java.util.List[String]): String = {
    val source = scala.io.Source.fromFile(vocabFile, "UTF-8")
    val tokenizer =
      try sparkdl.text.WordPieceTokenizer.fromVocab(
          source.getLines(), lowercase, stripAccents, chineseChars, maxLength)
      finally source.close()
    texts.asScala.map(t => tokenizer.encode(t).mkString(" ")).mkString("\n")
  }
}
