package sparkdl.inference

/**
 * One input of a run: a tensor named `tensor` of `shape`, its row-major `values` an `Array[Float]`
 * (float32), `Array[Double]` (float64), `Array[Int]` (int32) or `Array[Long]` (int64). An engine
 * may widen exactly (int32 to int64, float32 to float64) to the type its model declares, never
 * narrow.
 */
final case class Feed(tensor: String, shape: Array[Long], values: AnyRef) {

  /** "float", "double", "int32" or "int64". */
  def dtype: String = values match {
    case _: Array[Float] => "float"
    case _: Array[Double] => "double"
    case _: Array[Int] => "int32"
    case _: Array[Long] => "int64"
    case other =>
      throw new IllegalArgumentException(s"Feed '$tensor': unsupported values ${other.getClass}")
  }

  def length: Int = java.lang.reflect.Array.getLength(values)
}

object Feed {

  /** Fails unless every feed's data fills its shape exactly (checked before an engine runs). */
  def checkSizes(feeds: Seq[Feed]): Unit = feeds.foreach { f =>
    val expected = f.shape.product
    require(expected == f.length.toLong,
      s"Batch for '${f.tensor}' has ${f.length} ${f.dtype} values but shape " +
        s"${f.shape.mkString("[", ",", "]")} needs $expected")
  }

  /**
   * What a failed run says, for every engine: which engine and model, the inputs' shapes, the
   * outputs and why.
   */
  def runFailure(engine: String, model: Any, feeds: Seq[Feed], outputs: Seq[String],
                 cause: Exception): String =
    s"$engine failed running $model on inputs " +
      feeds.map(f => s"${f.tensor} ${f.shape.mkString("[", ",", "]")}").mkString(", ") +
      s", fetching ${outputs.mkString("[", ", ", "]")}: ${cause.getMessage}"
}
