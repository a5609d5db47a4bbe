package sparkdl.text

import java.io.File
import java.nio.file.Files

import org.apache.spark.ml.{Pipeline, PipelineModel, PipelineStage}
import org.json4s.{DefaultFormats, Formats}
import org.json4s.jackson.JsonMethods.parse
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.SparkSessionFixture
import sparkdl.ml.TextTokenizer

/**
 * Both tokenizers against the ids Python `tokenizers` gives (written by `make test-scala`'s
 * fixtures): [[TokenizerJson]] for each model family, [[WordPieceTokenizer]] for MiniLM's
 * vocabulary; and a saved [[TextTokenizer]] loaded with no Python around.
 */
class TokenizerSuite extends AnyFunSuite with SparkSessionFixture {

  private implicit val formats: Formats = DefaultFormats

  private lazy val dir = {
    val f =
      new File(System.getProperty("sparkdl.test.fixtures", "target/scala-fixtures"), "tokenizers")
    assert(new File(f, "expected.json").isFile, "run `make test-scala` to write the fixtures")
    f
  }

  private lazy val expected =
    parse(new String(Files.readAllBytes(new File(dir, "expected.json").toPath), "UTF-8"))

  private lazy val texts = (expected \ "texts").extract[Seq[String]]

  private def ids(name: String, limit: Int): Seq[Seq[Int]] =
    (expected \ name \ limit.toString).extract[Seq[Seq[Int]]]

  private def file(name: String) = new File(dir, s"$name.json")

  for (name <-
      Seq("minilm", "bpe_roberta", "unigram_nfkc_metaspace", "wordpiece_cased", "bpe_no_pad")) {
    test(s"TokenizerJson equals Python tokenizers: $name, whole and truncated at 16") {
      val t = TokenizerJson.fromBytes(Files.readAllBytes(file(name).toPath), name)
      // BERT's pipeline runs in Scala, every other
      // through the Rust library: both equal Python's ids
      assert(t.runsInScala == Set("minilm", "wordpiece_cased").contains(name))
      for (limit <- Seq(512, 16); native <- Seq(false, true)) {
        val sized = t.withMaxLength(limit)
        val got =
          texts.map(text => (if (native) sized.encodeNative(text) else sized.encode(text)).toSeq)
        val bad = texts.indices.filter(i => got(i) != ids(name, limit)(i))
        assert(bad.isEmpty,
          s"$name at $limit (native $native): " +
            s"${bad.take(3).map(i => (texts(i), got(i), ids(name, limit)(i)))}")
      }
    }
  }

  test("the Scala WordPiece tokenizer equals Python tokenizers on MiniLM's vocabulary") {
    val source = scala.io.Source.fromFile(new File(dir, "minilm-vocab.txt"), "UTF-8")
    val wordPiece =
      try WordPieceTokenizer.fromVocab(source.getLines(), lowercase = true, stripAccents = true,
          chineseChars = true, 512)
      finally source.close()
    for (limit <- Seq(512, 16)) {
      val got = texts.map(wordPiece.withMaxLength(limit).encode(_).toSeq)
      assert(got == ids("minilm", limit))
    }
  }

  test("a saved TextTokenizer loads and runs in Scala, its tokenizer inside the saved folder") {
    val tmp = Files.createTempDirectory("tokenizer-stage")
    val copy = tmp.resolve("unigram.json")
    Files.copy(file("unigram_nfkc_metaspace").toPath, copy)
    val stage = new TextTokenizer().setTokenizer(copy.toString).setOutputCol("t").setMaxLength(16)
    val df = spark.createDataFrame(texts.take(50).map(Tuple1(_))).toDF("text")
    val model = new Pipeline().setStages(Array[PipelineStage](stage)).fit(df)
    model.write.overwrite().save(tmp.resolve("saved").toString)
    Files.delete(copy)
    val loaded = PipelineModel.load(tmp.resolve("saved").toString)
    val rows = loaded.transform(df).select("t.input_ids", "t.attention_mask").collect()
    assert(
      rows.map(_.getSeq[Long](0).map(_.toInt)).toSeq == ids("unigram_nfkc_metaspace", 16).take(50))
    assert(rows.forall(r => r.getSeq[Long](1).forall(_ == 1L)))
  }
}
