package sparkdl.ml

import org.apache.spark.ml.linalg.SQLDataTypes.VectorType
import org.apache.spark.ml.linalg.Vectors
import org.apache.spark.sql.Row
import org.apache.spark.sql.types._

/** How one image's slice of an output tensor becomes an output cell. */
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

  /** array<float>. */
  case object FloatArrayOutput extends OutputFormat {
    val dataType: DataType = ArrayType(FloatType, containsNull = false)
    def cell(out: Array[Float], from: Int, len: Int): Any =
      java.util.Arrays.copyOfRange(out, from, from + len).toSeq
  }

  val PredictionStruct: StructType = StructType(Seq(
    StructField("class", StringType, nullable = false),
    StructField("description", StringType, nullable = false),
    StructField("probability", FloatType, nullable = false)))

  /** The `k` most probable classes, highest first, as `struct<class, description, probability>`. */
  final case class TopKOutput(k: Int, labels: ImageNetLabels) extends OutputFormat {
    val dataType: DataType = ArrayType(PredictionStruct, containsNull = false)
    def cell(out: Array[Float], from: Int, len: Int): Any = {
      require(len == labels.size, s"predictions have $len classes but there are ${labels.size} labels")
      // Stable: ties keep the lower class index first.
      val order = (0 until len).sortBy(i => (-out(from + i), i)).take(k)
      order.map(i => Row(labels.ids(i), labels.descriptions(i), out(from + i)))
    }
  }

  def forMode(mode: String): OutputFormat = mode match {
    case "vector" => VectorOutput
    case "array" => FloatArrayOutput
    case other => throw new IllegalArgumentException(s"Unknown output mode '$other' (vector or array)")
  }
}
