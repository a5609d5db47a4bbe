package sparkdl.inference

import org.apache.spark.ml.attribute.AttributeGroup
import org.apache.spark.ml.linalg.SQLDataTypes.VectorType
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.sql.types._

/**
 * A model input fed from a numeric column: `array<float>`, `array<double>`, an MLlib Vector
 * or a number per row, reshaped to `dims` (the input's static shape without its batch
 * dimension). A row whose size disagrees fails, naming the column and both shapes.
 */
final case class TensorColumnInput(column: String, tensor: String, dims: Array[Long]) extends BatchInput {

  private def sizeError(n: Int): Nothing = throw new IllegalArgumentException(
    s"Column '$column' has a row of $n values, but tensor '$tensor' of shape " +
      s"${dims.mkString("[?,", ",", "]")} takes $size values per row")

  /** Fails as a row of `n` values would. */
  def checkSize(n: Int): Unit = if (n != size) sizeError(n)

  def write(value: Any, dst: Array[Float], offset: Int): Unit = {
    value match {
      case v: Vector =>
        if (v.size != size) sizeError(v.size)
        var i = 0
        while (i < size) { dst(offset + i) = v(i).toFloat; i += 1 }
      case s: scala.collection.Seq[_] =>
        if (s.length != size) sizeError(s.length)
        var i = 0
        val it = s.iterator
        while (it.hasNext) {
          it.next() match {
            case f: Float => dst(offset + i) = f
            case d: Double => dst(offset + i) = d.toFloat
            case null => throw new IllegalArgumentException(
                s"Column '$column' has a null element at position $i; tensor '$tensor' takes floats only")
          }
          i += 1
        }
      case n: Number =>
        if (size != 1) sizeError(1)
        dst(offset) = n.floatValue()
    }
  }
}

object TensorColumnInput {

  /** The values per row a column declares in its ML attribute metadata (vectors from VectorAssembler...). */
  def declaredSize(field: StructField): Option[Int] =
    if (field.dataType != VectorType) None
    else Some(AttributeGroup.fromStructField(field).size).filter(_ >= 0)

  /** Column types a [[TensorColumnInput]] reads. */
  def supports(dt: DataType): Boolean = dt match {
    case ArrayType(FloatType | DoubleType, _) => true
    case VectorType => true
    case _: NumericType => true
    case _ => false
  }

  /**
   * The input for `column` feeding `info`, whose static shape must be `[batch, d1, ..., dk]`
   * with every d known; `what` names the caller in errors.
   */
  def forTensor(column: String, info: TensorInfo, what: String): TensorColumnInput = {
    if (info.dtype != "float") {
      throw new ModelException(s"Input tensor '${info.name}' is ${info.dtype}; $what feeds float32")
    }
    val dims = info.shape.getOrElse(throw new ModelException(
        s"Input tensor '${info.name}' has an unknown shape; $what needs [batch, d1, ..., dk] with known d's"))
    if (dims.isEmpty || dims.tail.exists(_ < 0)) {
      throw new ModelException(
        s"Input tensor '${info.name}' has shape ${info.shapeString}; $what needs [batch, d1, ..., dk] " +
          "with a batch dimension first and every other dimension known")
    }
    TensorColumnInput(column, info.name, dims.tail.toArray)
  }
}
