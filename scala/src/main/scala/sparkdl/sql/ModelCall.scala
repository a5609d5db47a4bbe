package sparkdl.sql

import scala.collection.immutable.ArraySeq

import org.apache.spark.sql.catalyst.CatalystTypeConverters
import org.apache.spark.sql.catalyst.expressions.{Expression, UnaryExpression, UnsafeArrayData}
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback
import org.apache.spark.sql.catalyst.util.ArrayData
import org.apache.spark.sql.types.{ArrayType, DataType, FloatType}

import sparkdl.inference.BatchInference

/**
 * A model applied to one column inside a query: what sparkdl's SQL functions evaluate to.
 * `inference` has one input (fed from `child`) and one float-array output; a null input
 * gives null. Each row is one model run.
 */
final case class ModelCall(functionName: String, model: String, child: Expression, inference: BatchInference)
  extends UnaryExpression with CodegenFallback {

  override def dataType: DataType = ArrayType(FloatType, containsNull = false)

  override def nullable: Boolean = true

  @transient private lazy val toScala = CatalystTypeConverters.createToScalaConverter(child.dataType)

  override protected def nullSafeEval(input: Any): Any = {
    val out = inference.run(IndexedSeq(Seq(toScala(input))))(0)
    if (out == null) null else ModelCall.toCatalyst(out(0))
  }

  override protected def withNewChildInternal(newChild: Expression): ModelCall = copy(child = newChild)

  override def prettyName: String = functionName

  override def flatArguments: Iterator[Any] = Iterator(model, child)

  override def sql: String = s"$functionName('$model', ${child.sql})"
}

object ModelCall {

  /** A float-array output cell ([[sparkdl.inference.OutputFormat.FloatArrayOutput]]) as Catalyst data. */
  def toCatalyst(cell: Any): ArrayData = cell match {
    case null => null
    case floats: ArraySeq.ofFloat => UnsafeArrayData.fromPrimitiveArray(floats.unsafeArray) // no further copy
    case floats: Seq[_] => UnsafeArrayData.fromPrimitiveArray(floats.asInstanceOf[Seq[Float]].toArray)
  }
}
