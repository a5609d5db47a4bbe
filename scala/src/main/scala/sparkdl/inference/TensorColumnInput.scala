package sparkdl.inference

import org.apache.spark.ml.attribute.AttributeGroup
import org.apache.spark.ml.linalg.SQLDataTypes.VectorType
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.sql.types._

/**
 * A model input fed from a numeric column: an array of numbers, an MLlib Vector or a number per
 * row, reshaped to `dims` (the input's static shape without its batch dimension; one of them may be
 * open, `-1`, such as a sequence length: the rows of a batch then share one length, which sets it)
 * and fed as `dtype` (float, double, int32 or int64, the type the model declares). A row whose size
 * disagrees fails, naming the column and both shapes; so does a value an integer input cannot hold
 * exactly (1.5, or beyond the type's range): numbers are never silently changed.
 */
final case class TensorColumnInput(column: String, tensor: String, dims: Array[Long],
                                   dtype: String = "float")
  extends BatchInput {

  require(TensorColumnInput.DTypes.contains(dtype), s"tensor '$tensor': unsupported dtype $dtype")

  /**
   * One non-batch dimension may be open (`-1`, e.g. a sequence length): resolved per batch from its
   * rows.
   */
  private def dynamic: Boolean = dims.exists(_ < 0)

  override def rowBytes: Long =
    BatchMemory.rowBytes(this, if (dtype == "float" || dtype == "int32") 4 else 8)

  /** Values per row that the known dimensions take (the whole row when none is open). */
  private def known: Int = dims.filter(_ >= 0).product.toInt

  private def shapeString: String =
    dims.map(d => if (d < 0) "?" else d.toString).mkString("[?,", ",", "]")

  private def sizeError(n: Int, expected: Int): Nothing = throw new IllegalArgumentException(
    s"Column '$column' has a row of $n values, but tensor '$tensor' " +
      s"of shape $shapeString takes $expected values per row" +
      (if (dynamic) " (the length of its batch's first row: rows fed together need one length)"
       else ""))

  /**
   * Fails as a row of `n` values would (a row of any multiple of the known dimensions when one is
   * open).
   */
  def checkSize(n: Int): Unit =
    if (dynamic) {
      if (n == 0 || n % known != 0) {
        throw new IllegalArgumentException(
          s"Column '$column' has a row of $n values, but tensor '$tensor' " +
            s"of shape $shapeString takes a multiple of $known values per row")
      }
    } else if (n != size) sizeError(n, size)

  private def length(value: Any): Int = value match {
    case v: Vector => v.size
    case s: scala.collection.Seq[_] => s.length
    case _ => 1
  }

  /**
   * Calls `put(i, x)` for each of the row's `expected` values (boxed numbers, as the row holds
   * them).
   */
  private def foreachValue(value: Any, expected: Int)(put: (Int, Number) => Unit): Unit =
    value match {
      case v: Vector =>
        if (v.size != expected) sizeError(v.size, expected)
        var i = 0
        while (i < expected) { put(i, v(i)); i += 1 }
      case s: scala.collection.Seq[_] =>
        if (s.length != expected) sizeError(s.length, expected)
        var i = 0
        val it = s.iterator
        while (it.hasNext) {
          it.next() match {
            case n: Number => put(i, n)
            case _ => throw new IllegalArgumentException(
                s"Column '$column' has a null element at position " +
                  s"$i; tensor '$tensor' takes $dtype values only")
          }
          i += 1
        }
      case n: Number =>
        if (expected != 1) sizeError(1, expected)
        put(0, n)
    }

  def write(value: Any, dst: Array[Float], offset: Int): Unit =
    writeFloats(value, dst, offset, size)

  private def writeFloats(value: Any, dst: Array[Float], offset: Int, expected: Int): Unit =
    value match {
      case v: Vector => // unboxed: the common case of an MLlib features column
        if (v.size != expected) sizeError(v.size, expected)
        var i = 0
        while (i < expected) { dst(offset + i) = v(i).toFloat; i += 1 }
      case _ => foreachValue(value, expected)((i, x) => dst(offset + i) = x.floatValue())
    }

  override def feeds(values: IndexedSeq[Any]): Seq[Feed] = {
    val per = if (dynamic) length(values.head) else size
    checkSize(per)
    val n = values.length * per
    val out: AnyRef = dtype match {
      case "float" => new Array[Float](n)
      case "double" => new Array[Double](n)
      case "int32" => new Array[Int](n)
      case _ => new Array[Long](n)
    }
    values.indices.foreach { j =>
      val base = j * per
      out match {
        case a: Array[Float] => writeFloats(values(j), a, base, per)
        case a: Array[Double] =>
          foreachValue(values(j), per)((i, x) => a(base + i) = exactDouble(x))
        case a: Array[Int] =>
          foreachValue(values(j), per) { (i, x) =>
            a(base + i) = integral(x, Int.MinValue, Int.MaxValue).toInt
          }
        case a: Array[Long] =>
          foreachValue(values(j), per) { (i, x) =>
            a(base + i) = integral(x, Long.MinValue, Long.MaxValue)
          }
        case _ =>
      }
    }
    val shape = dims.map(d => if (d < 0) (per / known).toLong else d)
    Seq(Feed(tensor, values.length.toLong +: shape, out))
  }

  private def cannotHold(x: Number): Nothing = throw new IllegalArgumentException(
    s"Column '$column' has the value $x, which tensor '$tensor' ($dtype) cannot hold exactly")

  /** A whole number within [min, max], exactly; anything else fails. */
  private def integral(x: Number, min: Long, max: Long): Long = {
    val v = x match {
      case _: java.lang.Long | _: java.lang.Integer | _: java.lang.Short | _: java.lang.Byte =>
        x.longValue()
      case _ =>
        val d = x.doubleValue()
        if (d != math.rint(d) || math.abs(d) >= 9.2e18) cannotHold(x)
        d.toLong
    }
    if (v < min || v > max) cannotHold(x)
    v
  }

  /** Doubles hold every float and int exactly, longs up to 2^53. */
  private def exactDouble(x: Number): Double = x match {
    case l: java.lang.Long if math.abs(l.longValue()) > (1L << 53) => cannotHold(x)
    case _ => x.doubleValue()
  }
}

object TensorColumnInput {

  /** Input dtypes a column can feed. */
  val DTypes: Set[String] = Set("float", "double", "int32", "int64")

  /** Column types a [[TensorColumnInput]] reads. */
  def supports(dt: DataType): Boolean = dt match {
    case ArrayType(_: NumericType, _) => true
    case VectorType => true
    case _: NumericType => true
    case _ => false
  }

  /**
   * The values per row a column declares in its ML attribute metadata (vectors from
   * VectorAssembler...).
   */
  def declaredSize(field: StructField): Option[Int] =
    if (field.dataType != VectorType) None
    else Some(AttributeGroup.fromStructField(field).size).filter(_ >= 0)

  /**
   * The input for `column` feeding `info`, whose static shape must be `[batch, d1, ..., dk]` with
   * every d known but at most one (a sequence length: each batch takes its rows' length); `what`
   * names the caller in errors.
   */
  def forTensor(column: String, info: TensorInfo, what: String): TensorColumnInput = {
    if (!DTypes.contains(info.dtype)) {
      throw new ModelException(
        s"Input tensor '${info.name}' is ${info.dtype}; " +
          s"$what feeds ${DTypes.toSeq.sorted.mkString(", ")}")
    }
    val dims = info.shape.getOrElse(throw new ModelException(
        s"Input tensor '${info.name}' has an unknown shape; " +
          s"$what needs [batch, d1, ..., dk] with known d's"))
    if (dims.isEmpty || dims.tail.count(_ < 0) > 1) {
      throw new ModelException(
        s"Input tensor '${info.name}' has shape ${info.shapeString}; $what needs [batch, d1, " +
          "..., dk] with a batch dimension first and every other dimension known but at most one")
    }
    TensorColumnInput(column, info.name, dims.tail.toArray, info.dtype)
  }
}
