package sparkdl.inference

import org.apache.spark.ml.linalg.SQLDataTypes.VectorType
import org.apache.spark.ml.linalg.Vectors
import org.apache.spark.sql.Row
import org.apache.spark.sql.types._

/** How one row's slice of an output tensor becomes an output cell. */
sealed trait OutputFormat extends Serializable {
  def dataType: DataType

  /** The cell for `out(from until from + len)`. */
  def cell(out: Array[Float], from: Int, len: Int): Any
}

object OutputFormat {

  /** MLlib DenseVector of doubles. */
  case object VectorOutput extends OutputFormat {
    val dataType: DataType = VectorType
    def cell(out: Array[Float], from: Int, len: Int): Any = {
      val d = new Array[Double](len)
      var k = 0
      while (k < len) { d(k) = out(from + k).toDouble; k += 1 }
      Vectors.dense(d)
    }
  }

  /** float: the one value of a row (a tensor of shape [batch]). */
  case object ScalarOutput extends OutputFormat {
    val dataType: DataType = FloatType
    def cell(out: Array[Float], from: Int, len: Int): Any = out(from)
  }

  /** array<float>. */
  case object FloatArrayOutput extends OutputFormat {
    val dataType: DataType = ArrayType(FloatType, containsNull = false)
    def cell(out: Array[Float], from: Int, len: Int): Any = // one copy (`toSeq` would make a second)
      scala.collection.immutable.ArraySeq.unsafeWrapArray(java.util.Arrays.copyOfRange(out, from, from + len))
  }

  val PredictionStruct: StructType = StructType(Seq(
      StructField("class", StringType, nullable = false),
      StructField("description", StringType, nullable = false),
      StructField("probability", FloatType, nullable = false)))

  /**
   * The `k` most probable classes, highest first, as `struct<class, description, probability>`:
   * class `i` is `classes(i)` (e.g. a WordNet id) described by `descriptions(i)`.
   */
  final case class TopKOutput(k: Int, classes: IndexedSeq[String], descriptions: IndexedSeq[String])
    extends OutputFormat {
    require(classes.length == descriptions.length, "one description per class")
    val dataType: DataType = ArrayType(PredictionStruct, containsNull = false)
    def cell(out: Array[Float], from: Int, len: Int): Any = {
      require(len == classes.length, s"predictions have $len classes but there are ${classes.length} labels")
      // Stable: ties keep the lower class index first.
      val order = (0 until len).sortBy(i => (-out(from + i), i)).take(k)
      order.map(i => Row(classes(i), descriptions(i), out(from + i)))
    }
  }

  /** The formats a stage's `outputMode` names. */
  val Modes: Map[String, OutputFormat] = Map("vector" -> VectorOutput, "array" -> FloatArrayOutput)

  def forMode(mode: String): OutputFormat =
    Modes.getOrElse(mode, throw new IllegalArgumentException(s"Unknown output mode '$mode' (vector or array)"))
}
