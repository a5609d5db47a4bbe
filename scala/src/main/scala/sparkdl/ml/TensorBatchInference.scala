package sparkdl.ml

import org.apache.spark.broadcast.Broadcast
import org.apache.spark.ml.linalg.SQLDataTypes.VectorType
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.sql.Row
import org.apache.spark.sql.types._

import sparkdl.tf.{Feed, FrozenGraph, SessionCache}

/** One input of [[TensorBatchInference]]: column `column` (at `index`) feeds `tensor` of `dims` per row. */
final case class TensorInput(column: String, index: Int, tensor: String, dims: Array[Long], size: Int)

/** Reads one cell of a supported column type into a float buffer. */
private[sparkdl] object ColumnFeeder {

  def supports(dt: DataType): Boolean = dt match {
    case ArrayType(FloatType | DoubleType, _) => true
    case VectorType => true
    case _: NumericType => true
    case _ => false
  }

  /** Writes `value` at `dst(offset)`; fails naming the column and both shapes when sizes differ. */
  def write(value: Any, in: TensorInput, dst: Array[Float], offset: Int): Unit = {
    def sizeError(n: Int): Nothing = throw new IllegalArgumentException(
      s"Column '${in.column}' has a row of $n values, but tensor '${in.tensor}' of shape " +
        s"${in.dims.mkString("[?,", ",", "]")} takes ${in.size} values per row")
    value match {
      case v: Vector =>
        if (v.size != in.size) sizeError(v.size)
        var i = 0
        while (i < in.size) { dst(offset + i) = v(i).toFloat; i += 1 }
      case s: scala.collection.Seq[_] =>
        if (s.length != in.size) sizeError(s.length)
        var i = 0
        val it = s.iterator
        while (it.hasNext) {
          it.next() match {
            case f: Float => dst(offset + i) = f
            case d: Double => dst(offset + i) = d.toFloat
            case null => throw new IllegalArgumentException(
              s"Column '${in.column}' has a null element at position $i; tensor '${in.tensor}' takes floats only")
          }
          i += 1
        }
      case n: Number =>
        if (in.size != 1) sizeError(1)
        dst(offset) = n.floatValue()
    }
  }
}

/**
 * The executor side of [[TFTransformer]]: streams a partition through the graph in
 * batches, several inputs and outputs per run. Rows with a null in any input column are
 * not fed; their outputs are null.
 *
 * @param outputs (tensor name, true when the tensor has one value per row: a float column)
 */
final case class TensorBatchInference(
    graph: Broadcast[FrozenGraph],
    inputs: Seq[TensorInput],
    outputs: Seq[(String, Boolean)],
    batchSize: Int) {

  def apply(rows: Iterator[Row]): Iterator[Row] = rows.grouped(batchSize).flatMap(runBatch)

  private def runBatch(batch: Seq[Row]): Seq[Row] = {
    val n = batch.size
    val fed = (0 until n).filter(i => inputs.forall(in => !batch(i).isNullAt(in.index)))
    val cells = Array.fill[Any](n, outputs.size)(null)
    if (fed.nonEmpty) {
      val m = fed.size
      val feeds = inputs.map { in =>
        val buffer = new Array[Float](m * in.size)
        fed.zipWithIndex.foreach { case (row, j) => ColumnFeeder.write(batch(row).get(in.index), in, buffer, j * in.size) }
        Feed(in.tensor, m.toLong +: in.dims, buffer)
      }
      val results = SessionCache.withSession(graph.value)(_.run(feeds, outputs.map(_._1)))
      results.zip(outputs).zipWithIndex.foreach { case (((shape, out), (name, scalar)), k) =>
        if (shape.isEmpty || shape(0) != m) {
          throw new IllegalStateException(s"Output '$name' has shape ${shape.mkString("[", ",", "]")} for a " +
            s"batch of $m rows; its first dimension must be the batch")
        }
        val per = out.length / m
        fed.zipWithIndex.foreach { case (row, j) =>
          cells(row)(k) = if (scalar) out(j) else java.util.Arrays.copyOfRange(out, j * per, (j + 1) * per).toSeq
        }
      }
    }
    (0 until n).map(i => Row.fromSeq(batch(i).toSeq ++ cells(i)))
  }
}
