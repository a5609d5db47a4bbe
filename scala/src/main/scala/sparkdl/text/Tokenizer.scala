package sparkdl.text

/**
 * Text to a model's token ids, in the executor: special tokens added, at most `maxLength` ids.
 * [[TokenizerJson]] runs any Hugging Face `tokenizer.json`; [[WordPieceTokenizer]] a BERT
 * `vocab.txt` in plain Scala.
 */
trait Tokenizer extends Serializable {

  /** Most ids [[encode]] returns (special tokens included). */
  def maxLength: Int

  /** The id that fills the positions after a text's last token in a padded batch. */
  def padId: Int

  /** The ids of `text`, special tokens included, truncated to `maxLength`. */
  def encode(text: String): Array[Int]

  /** The same tokenizer with another token limit. */
  def withMaxLength(n: Int): Tokenizer
}
