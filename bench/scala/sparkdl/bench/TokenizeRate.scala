package sparkdl.bench

import java.nio.file.{Files, Paths}

import scala.jdk.CollectionConverters._

import sparkdl.text.{TokenizerJson, WordPieceTokenizer}

/**
 * The JVM half of `make bench`'s tokenizer row: texts/s on one thread of Hugging Face tokenizers
 * through the JNI binding ([[TokenizerJson.encodeNative]], `tokenizer.json`) and of sparkdl's Scala
 * WordPiece (`vocab.txt`, lower-cased BERT), best of 3 passes after a warm-up pass. Returns
 * (native, wordPiece).
 */
object TokenizeRate {
  def textsPerSecond(tokenizerJson: String, vocabTxt: String, texts: java.util.List[String])
      : Array[Double] = {
    val all = texts.asScala.toIndexedSeq
    val json =
      TokenizerJson.fromBytes(Files.readAllBytes(Paths.get(tokenizerJson)), tokenizerJson, 512)
    val source = scala.io.Source.fromFile(vocabTxt, "UTF-8")
    val wordPiece =
      try WordPieceTokenizer.fromVocab(
          source.getLines(), lowercase = true, stripAccents = true, chineseChars = true,
          512)
      finally source.close()
    def rate(encode: String => Array[Int]): Double = {
      all.foreach(encode)
      (0 until 3).map { _ =>
        val start = System.nanoTime()
        all.foreach(encode)
        all.size / ((System.nanoTime() - start) / 1e9)
      }.max
    }
    Array(rate(json.encodeNative), rate(wordPiece.encode))
  }
}
