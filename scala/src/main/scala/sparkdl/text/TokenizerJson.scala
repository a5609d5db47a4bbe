package sparkdl.text

import java.lang.ref.Cleaner
import java.nio.charset.StandardCharsets.UTF_8
import java.security.MessageDigest

import org.json4s.{DefaultFormats, Formats, JArray, JNothing, JNull, JValue}
import org.json4s.jackson.JsonMethods.parse

import sparkdl.io.FileCache

/**
 * A Hugging Face `tokenizer.json` (any model: WordPiece, BPE, byte-level BPE, Unigram; any
 * normalizer, pre-tokenizer and post-processor) run by Hugging Face's own Rust library in the
 * executor ([[TokenizersNative]]), so the ids are the ones Python's `tokenizers` gives for
 * `encode(text).ids` with truncation at `maxLength` and no padding.
 *
 * The file's text travels with the tokenizer (it is small beside a model); each JVM builds the
 * native tokenizer once per (file, `maxLength`) and frees it when no tokenizer uses it.
 *
 * @param json
 *   the file's text
 * @param source
 *   where it was read from (for messages)
 * @param maxLength
 *   most ids per text, special tokens included
 * @param padId
 *   the id after a text's tokens in a padded batch: the file's padding id, else its `[PAD]` /
 *   `<pad>` token, else 0 (a mask hides padded positions)
 * @param padLeft
 *   the file pads on the left
 */
final class TokenizerJson private (val json: String, val source: String,
                                   override val maxLength: Int,
                                   override val padId: Int, val padLeft: Boolean,
                                   val hasPadToken: Boolean)
  extends Tokenizer {

  require(maxLength >= 1, s"maxLength must be >= 1, got $maxLength")

  /** The content hash: with `maxLength`, the key of the JVM's native tokenizer. */
  lazy val hash: String = TokenizerJson.sha256(json)

  @transient private lazy val native: TokenizerJson.Native = TokenizerJson.native(this)

  /**
   * Whether this file is BERT's WordPiece pipeline, which sparkdl's Scala [[WordPieceTokenizer]]
   * runs with the same ids, 2.5-4.5x faster than a call through JNI (`make bench`).
   */
  def runsInScala: Boolean = native.wordPiece.isDefined

  override def encode(text: String): Array[Int] = native.wordPiece match {
    case Some(fast) => fast.encode(text)
    case None => encodeNative(text)
  }

  /** The ids from the Rust library itself (whatever [[runsInScala]] says). */
  def encodeNative(text: String): Array[Int] = {
    val lib = TokenizersNative.library
    val encoding = lib.encode(native.handle, text, true)
    val ids =
      try lib.getTokenIds(encoding)
      finally lib.deleteEncoding(encoding)
    val out = new Array[Int](ids.length)
    var i = 0
    while (i < ids.length) { out(i) = ids(i).toInt; i += 1 }
    out
  }

  override def withMaxLength(n: Int): TokenizerJson =
    if (n == maxLength) this else new TokenizerJson(json, source, n, padId, padLeft, hasPadToken)

  override def toString: String = s"TokenizerJson($source, maxLength=$maxLength)"
}

object TokenizerJson {

  /** Token limit when the file sets none (BERT-family models' position table). */
  val DefaultMaxLength = 512

  /** Pad tokens looked for among the file's added tokens when it declares no padding. */
  private val PadTokens = Seq("[PAD]", "<pad>", "<|pad|>", "<|padding|>")

  /**
   * The tokenizer of a `tokenizer.json` file's text; `maxLength` 0 keeps the file's truncation
   * length, else [[DefaultMaxLength]]. The file is parsed and built once here, so a file the
   * library cannot read fails now, naming `source`.
   */
  def apply(json: String, source: String, maxLength: Int = 0): TokenizerJson = {
    implicit val formats: Formats = DefaultFormats
    val doc =
      try parse(json)
      catch {
        case e: Exception =>
          throw new IllegalArgumentException(s"$source is not JSON: ${e.getMessage}", e)
      }
    if ((doc \ "model") == JNothing) {
      throw new IllegalArgumentException(
        s"$source is not a Hugging Face tokenizer.json (it has no \"model\")")
    }
    val padding = doc \ "padding"
    val added = (doc \ "added_tokens") match {
      case JArray(tokens) => tokens.flatMap(t =>
          for {
            c <- (t \ "content").extractOpt[String]
            i <- (t \ "id").extractOpt[Int]
          } yield c -> i)
      case _ => Nil
    }
    val padId = nonNull(padding).flatMap(p => (p \ "pad_id").extractOpt[Int])
      .orElse(PadTokens.flatMap(t => added.find(_._1 == t).map(_._2)).headOption)
    val padLeft =
      nonNull(padding).flatMap(p => (p \ "direction").extractOpt[String]).contains("Left")
    val fileMax = nonNull(doc \ "truncation").flatMap(t => (t \ "max_length").extractOpt[Int])
    val limit = if (maxLength > 0) maxLength else fileMax.getOrElse(DefaultMaxLength)
    val tokenizer =
      new TokenizerJson(json, source, limit, padId.getOrElse(0), padLeft, padId.isDefined)
    native(tokenizer, Some(doc)) // built now: a file the library refuses fails here, named
    tokenizer
  }

  /** The tokenizer in `bytes` (a `tokenizer.json` file's content, UTF-8). */
  def fromBytes(bytes: Array[Byte], source: String, maxLength: Int = 0): TokenizerJson =
    apply(new String(bytes, UTF_8), source, maxLength)

  /**
   * The Scala tokenizer equal to the file when the file is BERT's pipeline: a `WordPiece` model
   * (`##` continuations, 100 characters a word), `BertNormalizer` (cleaning text), the
   * `BertPreTokenizer`, one special token before and one after the text (`BertProcessing`,
   * `RobertaProcessing` or a template of that shape), right truncation, and added tokens that are
   * all special, matched whole in the raw text and in the vocabulary; else None.
   */
  private[text] def bertWordPiece(doc: JValue, maxLength: Int): Option[WordPieceTokenizer] = {
    implicit val formats: Formats = DefaultFormats
    def str(v: JValue, f: String) = (v \ f).extractOpt[String]
    def flag(v: JValue, f: String) = (v \ f).extractOpt[Boolean]
    val model = doc \ "model"
    val normalizer = doc \ "normalizer"
    val processor = doc \ "post_processor"
    val vocab = (model \ "vocab").extractOpt[Map[String, Int]].getOrElse(Map.empty)
    def pair(f: String) = (processor \ f).extractOpt[(String, Int)]
    val around: Option[(String, String)] = str(processor, "type") match {
      case Some("BertProcessing") | Some("RobertaProcessing") =>
        for ((c, ci) <- pair("cls"); (s, si) <- pair("sep") if vocab.get(c).contains(ci) &&
            vocab.get(s).contains(si))
          yield (c, s)
      case Some("TemplateProcessing") =>
        (processor \ "single").extractOpt[List[Map[String, Map[String, JValue]]]] match {
          case Some(List(first, middle, last)) =>
            def special(m: Map[String, Map[String, JValue]]) =
              m.get("SpecialToken").flatMap(_.get("id")).flatMap(_.extractOpt[String])
                .filter { t =>
                  (processor \ "special_tokens" \ t \ "ids").extractOpt[List[Int]].exists(ids =>
                    vocab.get(t).toList == ids)
                }
            val sequenceA = middle.get("Sequence").flatMap(_.get("id"))
              .flatMap(_.extractOpt[String]).contains("A")
            for (c <- special(first); s <- special(last) if sequenceA) yield (c, s)
          case _ => None
        }
      case _ => None
    }
    val added = (doc \ "added_tokens").extractOpt[List[JValue]].getOrElse(Nil)
    val addedOk = added.forall { t =>
      flag(t, "special").contains(true) && !flag(t, "normalized").getOrElse(true) &&
        !flag(t, "lstrip").getOrElse(false) &&
        !flag(t, "rstrip").getOrElse(false) && !flag(t, "single_word").getOrElse(false) &&
        str(t, "content").exists(c => vocab.get(c) == (t \ "id").extractOpt[Int])
    }
    val bert = str(model, "type").contains("WordPiece") &&
      str(model, "continuing_subword_prefix").forall(_ == "##") &&
      (model \ "max_input_chars_per_word").extractOpt[Int].forall(
        _ == WordPieceTokenizer.MaxCharsPerWord) &&
      str(model, "unk_token").exists(vocab.contains) &&
      str(normalizer, "type").contains("BertNormalizer") &&
      flag(normalizer, "clean_text").getOrElse(true) &&
      str(doc \ "pre_tokenizer", "type").contains("BertPreTokenizer") &&
      nonNull(doc \ "truncation").forall(t => str(t, "direction").forall(_ == "Right")) && addedOk
    around.filter(_ => bert).map { case (cls, sep) =>
      val lowercase = flag(normalizer, "lowercase").getOrElse(true)
      new WordPieceTokenizer(
        vocab, lowercase, flag(normalizer, "strip_accents").getOrElse(lowercase),
        flag(normalizer, "handle_chinese_chars").getOrElse(true), maxLength, cls, sep,
        str(model, "unk_token").get,
        added.flatMap(t => str(t, "content")))
    }
  }

  private def nonNull(v: JValue): Option[JValue] = v match {
    case JNothing | JNull => None
    case other => Some(other)
  }

  private def sha256(s: String): String =
    MessageDigest.getInstance("SHA-256").digest(s.getBytes(UTF_8)).map("%02x".format(_)).mkString

  /**
   * A native tokenizer, freed when nothing refers to it any more, and the Scala one when the file
   * is BERT's.
   */
  private final class Native(val handle: Long, val wordPiece: Option[WordPieceTokenizer])

  private val cleaner = Cleaner.create()
  private val natives = new FileCache[Native]

  /**
   * The JVM's native tokenizer for `t`'s file and limit: built from the JSON, padding off (a batch
   * pads itself), truncation at `maxLength` (Rust keeps room for the special tokens).
   */
  private def native(t: TokenizerJson, doc: Option[JValue] = None): Native =
    natives.getOrLoad(s"${t.hash}:${t.maxLength}", "") {
      val lib = TokenizersNative.library
      val handle =
        try lib.createTokenizerFromString(t.json)
        catch {
          case e: RuntimeException =>
            throw new IllegalArgumentException(
              s"${t.source} is not a tokenizer Hugging Face tokenizers can read: " +
                e.getMessage, e)
        }
      lib.disablePadding(handle)
      lib.setTruncation(handle, t.maxLength, "LONGEST_FIRST", 0)
      val n =
        new Native(handle,
          if (t.maxLength >= 2) bertWordPiece(doc.getOrElse(parse(t.json)), t.maxLength) else None)
      cleaner.register(n, () => lib.deleteTokenizer(handle))
      n
    }
}
