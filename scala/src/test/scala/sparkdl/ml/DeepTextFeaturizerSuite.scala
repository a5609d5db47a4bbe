package sparkdl.ml

import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}

import org.apache.spark.sql.functions.col
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.{SparkSessionFixture, TestGraphs}
import sparkdl.sql.ModelEvalExec

class DeepTextFeaturizerSuite extends AnyFunSuite with SparkSessionFixture {

  /** An export of [[TestGraphs.tokenCounts]] named "counts", with a vocabulary of a few words. */
  private lazy val exportDir: Path = {
    val root = Files.createTempDirectory("text-export")
    val dir = Files.createDirectories(root.resolve("counts"))
    Files.write(dir.resolve("graph.pb"), TestGraphs.tokenCounts.graphDef)
    Files.write(dir.resolve("vocab.txt"),
      Seq("[PAD]", "[UNK]", "[CLS]", "[SEP]", "word", "##s", "other")
        .mkString("", "\n", "\n").getBytes(UTF_8))
    Files.write(dir.resolve("model.json"),
      ("""{"kind": "text", "modelName": "counts", "hidden": 2, """ +
        """"maxLength": 128, "lowercase": true, "stripAccents": true, "chineseChars": true, """ +
        """"inputIdsTensor": "input_ids:0", "attentionMaskTensor": "attention_mask:0", """ +
        """"embeddingTensor": "embedding:0"}""").getBytes(UTF_8))
    root
  }

  /**
   * 100,000 rows (row i: "Words" repeated i % 37 times) through DeepTextFeaturizer over the export
   * in `dir`, read back one by one: each row's output is `expected(i % 37)`, in input order, and
   * the operator holds at most one sort window of rows ahead of its output. The query's plan.
   */
  private def streams(dir: Path, expected: Long => Seq[Float]): org.apache.spark.sql.DataFrame = {
    import StreamCounters.{emit, pull}
    StreamCounters.reset()
    val source = spark.range(0, 100000, 1, 1).select(pull(col("id")).as("id"))
      .selectExpr("id", "trim(repeat('Words ', int(id % 37))) AS text")
    val stage =
      new DeepTextFeaturizer().setInputCol("text").setOutputCol("e").setOutputMode("array")
        .setModelName("counts").setModelDir(dir.toString).setBatchSize(32)
    val out = stage.transform(source).select(emit(col("id")).as("id"), col("e"))
    var n = 0L
    out.toLocalIterator().forEachRemaining { r =>
      assert(r.getLong(0) == n, "rows left in input order")
      assert(r.getSeq[Float](1) == expected(r.getLong(0) % 37), s"row $n")
      n += 1
    }
    assert(n == 100000 && StreamCounters.emitted.get() == 100000)
    assert(StreamCounters.maxAhead.get() <= 4096,
      s"${StreamCounters.maxAhead.get()} rows pulled ahead of the output")
    out
  }

  test(
    "a partition of 100,000 strings streams: at most one " +
      "sort window of rows held, output in input order") {
    // each "Words" is two pieces (word ##s, ids 4 and 5)
    // between [CLS] and [SEP]: mask sum 2k + 2, ids 9k + 5
    val out = streams(exportDir, k => Seq(k * 2f + 2, k * (4 + 5) + 2 + 3f))
    val exec = out.queryExecution.executedPlan.collect { case e: ModelEvalExec => e }
    assert(exec.map(_.metrics("modelRuns").value) == Seq(3125)) // 100000 / 32
  }

  /**
   * The same graph exported with a `tokenizer.json` instead of `vocab.txt`: a word-level model
   * (whitespace words, `<s> ... </s>` around them), which only Hugging Face's Rust library runs.
   */
  private lazy val jsonExportDir: Path = {
    val root = Files.createTempDirectory("text-export-json")
    val dir = Files.createDirectories(root.resolve("counts"))
    Files.write(dir.resolve("graph.pb"), TestGraphs.tokenCounts.graphDef)
    def added(id: Int, token: String) =
      s"""{"id": $id, "content": "$token", "single_word": false, "lstrip": false, """ +
        """"rstrip": false, "normalized": false, "special": true}"""
    Files.write(dir.resolve("tokenizer.json"),
      ("""{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [""" +
        Seq(added(0, "<s>"), added(1, "<pad>"), added(2, "</s>")).mkString(", ") + "], " +
        """"normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, """ +
        """"post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], """ +
        """"cls": ["<s>", 0], "trim_offsets": true, "add_prefix_space": true}, """ +
        """"decoder": null, "model": {"type": "WordLevel", "vocab": {"<s>": 0, "<pad>": 1, """ +
        """"</s>": 2, "<unk>": 3, "Words": 4}, "unk_token": "<unk>"}}""").getBytes(UTF_8))
    Files.write(dir.resolve("model.json"),
      ("""{"kind": "text", "modelName": "counts", "hidden": 2, "maxLength": 128, """ +
        """"tokenizer": "tokenizer.json", """ +
        """"inputIdsTensor": "input_ids:0", "attentionMaskTensor": "attention_mask:0", """ +
        """"embeddingTensor": "embedding:0"}""").getBytes(UTF_8))
    root
  }

  test(
    "a tokenizer.json export streams too: 100,000 strings, " +
      "one sort window held, ids from the Rust library") {
    val tokenizer = sparkdl.text.TextModels.load("counts", Some(jsonExportDir.toString)).tokenizer
    assert(tokenizer.isInstanceOf[sparkdl.text.TokenizerJson] &&
      !tokenizer.asInstanceOf[sparkdl.text.TokenizerJson].runsInScala)
    // <s>, k ids 4, </s>: a mask sum of k + 2, an id sum of 4k + 2
    streams(jsonExportDir, k => Seq(k + 2f, k * 4 + 2f))
  }

  test("a sort window of wide rows stops at 64 MiB, whatever its row count") {
    import StreamCounters.{emit, pull}
    StreamCounters.reset()
    // 3,000 rows of a 64 KiB pass-through column read from a file (so the rows reaching
    // the model hold it): 64 MiB hold about 1,000 of them, not the 4,096 rows of a window
    val file = Files.createTempDirectory("wide").resolve("rows.parquet").toString
    spark.range(0, 3000, 1, 1).selectExpr(
      "id", "repeat('x', 65536) AS payload", "'Words words' AS text")
      .write.parquet(file)
    val source =
      spark.read.parquet(file).select(pull(col("id")).as("id"), col("payload"), col("text"))
    val stage =
      new DeepTextFeaturizer().setInputCol("text").setOutputCol("e").setOutputMode("array")
        .setModelName("counts").setModelDir(exportDir.toString).setBatchSize(32)
    var n = 0L
    stage.transform(source).select(emit(col("id")).as("id"), col("e"), col("payload"))
      .toLocalIterator()
      .forEachRemaining { r =>
        assert(r.getLong(0) == n && r.getString(2).length == 65536)
        n += 1
      }
    assert(n == 3000)
    val ahead = StreamCounters.maxAhead.get()
    assert(ahead >= 900 && ahead <= 1100, s"$ahead rows pulled ahead of the output")
  }

  test("a DataFrame's own session finds the export (its modelDir conf), whichever is active") {
    val other = spark.newSession()
    other.conf.set(sparkdl.models.ExportFolder.Conf.ModelDir, exportDir.toString)
    val stage = new DeepTextFeaturizer().setInputCol("text").setOutputCol("e")
      .setOutputMode("array").setModelName("counts")
    val texts = "SELECT 'Words' AS text"
    org.apache.spark.sql.SparkSession.setActiveSession(spark) // holds no modelDir conf
    try {
      val e = intercept[IllegalArgumentException](stage.transform(spark.sql(texts)))
      assert(e.getMessage.contains("counts"), e.getMessage)
      // [CLS] word ##s [SEP]: mask sum 4, ids 2 + 4 + 5 + 3
      assert(stage.transform(other.sql(texts)).head().getSeq[Float](1) == Seq(4f, 14f))
      assert(org.apache.spark.sql.SparkSession.active eq spark, "the active session is restored")
    } finally org.apache.spark.sql.SparkSession.setActiveSession(spark)
  }
}
