package sparkdl.text

import sparkdl.inference.{BatchInput, BatchMemory, Feed}

/**
 * A model input fed from a string column: each text tokenized ([[Tokenizer]]) in the executor, the
 * batch padded to its own longest row, fed as token ids (`idsTensor`) and an attention mask
 * (`maskTensor`), both int32 `[batch, longest]` (an engine widens them to the int64 a model may
 * declare), and zeros as token type ids when the model takes them (`typeIdsTensor`: one segment, as
 * for a single sentence).
 */
final case class TextInput(column: String, tokenizer: Tokenizer, idsTensor: String,
                           maskTensor: String,
                           typeIdsTensor: Option[String] = None)
  extends BatchInput {

  override def tensor: String = idsTensor

  override def tensors: Seq[String] = Seq(idsTensor, maskTensor) ++ typeIdsTensor

  /** Per row: up to `maxLength` token ids (the batch decides the padded length). */
  override def dims: Array[Long] = Array(tokenizer.maxLength.toLong)

  /** Token ids, mask (and type ids): int64 each. */
  override def rowBytes: Long = BatchMemory.rowBytes(this, 8) * tensors.size

  override def describe(value: Any): String =
    s"text of ${value.asInstanceOf[String].length} characters"

  override def write(value: Any, dst: Array[Float], offset: Int): Unit =
    throw new UnsupportedOperationException("text feeds int32 token ids (feeds)")

  override def feeds(values: IndexedSeq[Any]): Seq[Feed] = {
    val encoded = values.map(v => tokenizer.encode(v.asInstanceOf[String]))
    val n = encoded.length
    val longest = encoded.map(_.length).max
    val ids = Array.fill(n * longest)(tokenizer.padId)
    val mask = new Array[Int](n * longest)
    var i = 0
    while (i < n) {
      val e = encoded(i)
      System.arraycopy(e, 0, ids, i * longest, e.length)
      java.util.Arrays.fill(mask, i * longest, i * longest + e.length, 1)
      i += 1
    }
    val shape = Array(n.toLong, longest.toLong)
    Seq(Feed(idsTensor, shape, ids), Feed(maskTensor, shape, mask)) ++
      typeIdsTensor.map(t => Feed(t, shape, new Array[Int](n * longest)))
  }

  override def sortsByCost: Boolean = true

  /** Characters: a cheap proxy for the token count, by which rows are sorted into batches. */
  override def cost(value: Any): Int = value.asInstanceOf[String].length
}
