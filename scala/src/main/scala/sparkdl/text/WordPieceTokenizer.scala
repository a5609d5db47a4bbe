package sparkdl.text

import java.text.Normalizer
import java.util.Locale

import scala.collection.mutable.ArrayBuffer

/**
 * BERT's WordPiece tokenizer, as Hugging Face's `tokenizers` runs it (`BertNormalizer`,
 * `BertPreTokenizer`, `WordPiece`, the `[CLS] ... [SEP]` template), in plain Scala: no native
 * library, so it runs in any executor.
 *
 *   1. Normalize: drop NUL, U+FFFD and control/format/unassigned code points, turn every whitespace
 *      into a space; put spaces around CJK ideographs (`chineseChars`); with `stripAccents`,
 *      decompose (NFD) and drop non-spacing marks; with `lowercase`, lower-case each code point on
 *      its own (as Rust's `char::to_lowercase`).
 *   2. Pre-tokenize: split on whitespace, and make every punctuation code point (ASCII punctuation
 *      or a Unicode `P*` category) a word of its own.
 *   3. WordPiece: each word becomes the longest vocabulary piece from its start, then `##`
 *      continuations; a word with no split, or longer than 100 code points, is `[UNK]`.
 *   4. `[CLS]` + pieces (the first `maxLength - 2`) + `[SEP]`.
 *
 * Special tokens written in the text (`[MASK]`, `[SEP]`, ...: the `specials`) are their own ids, as
 * Hugging Face matches its added tokens in the raw text before normalizing the rest.
 *
 * @param vocab
 *   piece -> id (the line number in `vocab.txt`)
 * @param cls
 *   the token before the text (`[CLS]`; `<s>` for MPNet)
 * @param sep
 *   the token after it (`[SEP]`; `</s>`)
 * @param specials
 *   tokens matched whole in the raw text
 */
final class WordPieceTokenizer(
    vocab: Map[String, Int],
    lowercase: Boolean,
    stripAccents: Boolean,
    chineseChars: Boolean,
    val maxLength: Int,
    cls: String = "[CLS]",
    sep: String = "[SEP]",
    unk: String = "[UNK]",
    specials: Seq[String] = WordPieceTokenizer.BertSpecials) extends Tokenizer {

  require(maxLength >= 2, s"maxLength must be >= 2 ($cls and $sep), got $maxLength")

  private def id(token: String): Int =
    vocab.getOrElse(token, throw new IllegalArgumentException(s"the vocabulary has no $token"))

  val clsId: Int = id(cls)
  val sepId: Int = id(sep)
  val unkId: Int = id(unk)
  override val padId: Int = vocab.getOrElse("[PAD]", vocab.getOrElse("<pad>", 0))

  /**
   * The specials the vocabulary has, longest first (the longest match wins where two start at one
   * place).
   */
  private val specialIds: Seq[(String, Int)] =
    specials.distinct.flatMap(t => vocab.get(t).map(t -> _)).sortBy(-_._1.length)

  /** Token ids of `text`: `[CLS]`, its pieces (truncated to `maxLength - 2`), `[SEP]`. */
  override def encode(text: String): Array[Int] = {
    val ids = new ArrayBuffer[Int]()
    ids += clsId
    val budget = maxLength - 2
    val parts = segments(text).iterator
    while (ids.length - 1 < budget && parts.hasNext) {
      parts.next() match {
        case Left(special) => ids += special
        case Right(plain) =>
          val words = preTokenize(normalize(plain)).iterator
          while (ids.length - 1 < budget && words.hasNext) wordPiece(words.next(), ids)
      }
    }
    if (ids.length - 1 > budget) ids.remove(budget + 1, ids.length - 1 - budget)
    ids += sepId
    ids.toArray
  }

  /**
   * `text` cut at the special tokens written in it: their ids (Left) between plain stretches
   * (Right).
   */
  private def segments(text: String): Seq[Either[Int, String]] = {
    if (specialIds.isEmpty || !specialIds.exists(t => text.contains(t._1))) return Seq(Right(text))
    val out = new ArrayBuffer[Either[Int, String]]()
    var from = 0
    var i = 0
    while (i < text.length) {
      specialIds.find { case (t, _) => text.startsWith(t, i) } match {
        case Some((t, tokenId)) =>
          if (i > from) out += Right(text.substring(from, i))
          out += Left(tokenId)
          i += t.length
          from = i
        case None => i += 1
      }
    }
    if (from < text.length) out += Right(text.substring(from))
    out.toSeq
  }

  override def withMaxLength(n: Int): WordPieceTokenizer =
    new WordPieceTokenizer(vocab, lowercase, stripAccents, chineseChars, n, cls, sep, unk, specials)

  private[text] def normalize(text: String): String = {
    val out = new java.lang.StringBuilder(text.length + 8)
    text.codePoints().forEach { cp =>
      if (cp == 0 || cp == 0xfffd || WordPieceTokenizer.isControl(cp)) ()
      else if (WordPieceTokenizer.isWhitespace(cp)) out.append(' ')
      else if (chineseChars && WordPieceTokenizer.isChinese(cp))
        out.append(' ').appendCodePoint(cp).append(' ')
      else out.appendCodePoint(cp)
    }
    var s = out.toString
    if (stripAccents) {
      val nfd = Normalizer.normalize(s, Normalizer.Form.NFD)
      val kept = new java.lang.StringBuilder(nfd.length)
      nfd.codePoints().forEach(cp =>
        if (Character.getType(cp) != Character.NON_SPACING_MARK) kept.appendCodePoint(cp))
      s = kept.toString
    }
    if (lowercase) {
      val lower = new java.lang.StringBuilder(s.length)
      s.codePoints().forEach { cp =>
        // one code point at a time (no context rules such as the final sigma), full mappings kept
        if (cp < 128) lower.append(Character.toLowerCase(cp.toChar))
        else lower.append(new String(Character.toChars(cp)).toLowerCase(Locale.ROOT))
      }
      s = lower.toString
    }
    s
  }

  /**
   * Words: whitespace-separated, every punctuation code point a word of its own; as code point
   * arrays.
   */
  private[text] def preTokenize(text: String): Seq[Array[Int]] = {
    val words = new ArrayBuffer[Array[Int]]()
    val current = new ArrayBuffer[Int]()
    def flush(): Unit = if (current.nonEmpty) { words += current.toArray; current.clear() }
    text.codePoints().forEach { cp =>
      if (WordPieceTokenizer.isWhitespace(cp)) flush()
      else if (WordPieceTokenizer.isPunctuation(cp)) { flush(); words += Array(cp) }
      else current += cp
    }
    flush()
    words.toSeq
  }

  /** Appends the ids of one word's pieces (greedy longest match), or `[UNK]`. */
  private def wordPiece(word: Array[Int], ids: ArrayBuffer[Int]): Unit = {
    if (word.length > WordPieceTokenizer.MaxCharsPerWord) { ids += unkId; return }
    val pieces = new ArrayBuffer[Int]()
    var start = 0
    while (start < word.length) {
      var end = word.length
      var found = -1
      while (found < 0 && end > start) {
        val sub = new String(word, start, end - start)
        vocab.get(if (start > 0) "##" + sub else sub) match {
          case Some(i) => found = i
          case None => end -= 1
        }
      }
      if (found < 0) { ids += unkId; return }
      pieces += found
      start = end
    }
    ids ++= pieces
  }
}

object WordPieceTokenizer {

  val MaxCharsPerWord = 100

  /**
   * BERT's special tokens, which its tokenizer.json lists as added tokens matched in the raw text.
   */
  val BertSpecials: Seq[String] = Seq("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

  /** A tokenizer over `vocab.txt` (one piece per line; the id is the line number). */
  def fromVocab(lines: Iterator[String], lowercase: Boolean, stripAccents: Boolean,
                chineseChars: Boolean, maxLength: Int): WordPieceTokenizer = {
    val vocab = lines.zipWithIndex.map { case (line, i) => line.stripLineEnd -> i }
      .foldLeft(Map.empty[String, Int]) { case (m, (k, v)) =>
        if (m.contains(k)) m else m.updated(k, v)
      }
    new WordPieceTokenizer(vocab, lowercase, stripAccents, chineseChars, maxLength)
  }

  /**
   * Unicode White_Space (Rust's `char::is_whitespace`), which Java's `isWhitespace` does not quite
   * match.
   */
  private[text] def isWhitespace(cp: Int): Boolean =
    (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
      (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
      cp == 0x205f ||
      cp == 0x3000

  /**
   * Control, format, unassigned, private-use and surrogate code points, except tab and newlines.
   */
  private[text] def isControl(cp: Int): Boolean =
    if (cp == '\t' || cp == '\n' || cp == '\r') false
    else
      Character.getType(cp) match {
        case Character.CONTROL | Character.FORMAT | Character.UNASSIGNED | Character.PRIVATE_USE |
            Character.SURROGATE => true
        case _ => false
      }

  /** CJK Unified Ideographs and their extensions and compatibility blocks, as BERT defines them. */
  private[text] def isChinese(cp: Int): Boolean =
    (cp >= 0x4e00 && cp <= 0x9fff) ||
      (cp >= 0x3400 && cp <= 0x4dbf) ||
      (cp >= 0x20000 && cp <= 0x2a6df) ||
      (cp >= 0x2a700 && cp <= 0x2b73f) ||
      (cp >= 0x2b740 && cp <= 0x2b81f) ||
      (cp >= 0x2b820 && cp <= 0x2ceaf) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0x2f800 && cp <= 0x2fa1f)

  /** ASCII punctuation (symbols such as `$+<=>^|~` included) or a Unicode punctuation category. */
  private[text] def isPunctuation(cp: Int): Boolean =
    (cp >= 33 && cp <= 47) ||
      (cp >= 58 && cp <= 64) ||
      (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126) ||
      (Character.getType(cp) match {
        case Character.CONNECTOR_PUNCTUATION | Character.DASH_PUNCTUATION |
            Character.END_PUNCTUATION | Character.FINAL_QUOTE_PUNCTUATION |
            Character.INITIAL_QUOTE_PUNCTUATION | Character.OTHER_PUNCTUATION |
            Character.START_PUNCTUATION => true
        case _ => false
      })
}
