package sparkdl.sql

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{LeafExpression, Nondeterministic}
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback
import org.apache.spark.sql.types.{DataType, StringType}
import org.apache.spark.unsafe.types.UTF8String

import sparkdl.onnx.OnnxSession

/**
 * `sparkdl_device()`: where the models of the JVM evaluating it run, as JSON: the GPU address Spark
 * assigned (or null), TensorFlow's device settings and ONNX Runtime's device
 * ([[sparkdl.inference.Placement.describe]]). Evaluated in the tasks, so
 * `SELECT DISTINCT sparkdl_device() FROM range(100)` shows every executor's.
 */
final case class DeviceFunction() extends LeafExpression with Nondeterministic
  with CodegenFallback {

  override def dataType: DataType = StringType

  override def nullable: Boolean = false

  override def prettyName: String = DeviceFunction.Name

  override protected def initializeInternal(partitionIndex: Int): Unit = ()

  override protected def evalInternal(input: InternalRow): Any =
    UTF8String.fromString(OnnxSession.describePlacement())
}

object DeviceFunction {
  val Name = "sparkdl_device"
}
