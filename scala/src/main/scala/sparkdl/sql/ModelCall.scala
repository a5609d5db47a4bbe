package sparkdl.sql

import scala.collection.immutable.ArraySeq

import org.apache.spark.sql.catalyst.{CatalystTypeConverters, InternalRow}
import org.apache.spark.sql.catalyst.expressions.{Expression, UnsafeArrayData}
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback
import org.apache.spark.sql.catalyst.util.ArrayData
import org.apache.spark.sql.types.{DataType, StructField, StructType}

import sparkdl.inference.{BatchInference, OutputFormat}

/**
 * A model applied to columns inside a query: what sparkdl's SQL functions and stages evaluate to.
 * Input `k` of `inference` is fed from `children(k)`; the value is the one output's cell, or with
 * several outputs a struct with one field per output (`fieldNames`). A null input gives null; an
 * input the model cannot take fails or gives null per `inference.handleInvalid` ("skip" is a filter
 * before the call: [[ModelInputValid]]).
 *
 * Inside a `Project`, [[ExtractModelCalls]] evaluates the calls in batches ([[ModelEvalExec]]) of
 * `batchSize` rows (None: the session's `spark.sparkdl.sql.batchSize`; 0: auto). Elsewhere, or in a
 * session without sparkdl's planning, each row is one model run.
 */
final case class ModelCall(
    functionName: String,
    model: String,
    children: Seq[Expression],
    inference: BatchInference,
    fieldNames: Seq[String] = Nil,
    batchSize: Option[Int] = None)
  extends Expression with CodegenFallback {

  require(children.length == inference.inputs.length,
    s"$functionName: ${inference.inputs.length} model inputs but ${children.length} arguments")
  require(inference.handleInvalid != "skip", "skip is a filter before the call (ModelInputValid)")
  require(inference.outputs.length == 1 || fieldNames.length == inference.outputs.length,
    "one field name per output")

  private def formats: Seq[OutputFormat] = inference.outputs.map(_.format)

  override def dataType: DataType =
    if (formats.length == 1) formats.head.dataType
    else StructType(fieldNames.zip(formats).map { case (n, f) =>
      StructField(n, f.dataType, nullable = true)
    })

  override def nullable: Boolean = true

  @transient private lazy val toScala =
    children.map(c => CatalystTypeConverters.createToScalaConverter(c.dataType))
  @transient private lazy val toCatalyst = formats.map(ModelCall.converter)

  /** Row `row`'s model inputs as the inference takes them (external values, null for null). */
  def inputs(row: InternalRow, bound: Seq[Expression]): Seq[Any] = bound.indices.map { k =>
    val v = bound(k).eval(row)
    if (v == null) null else toScala(k)(v)
  }

  /** The value for one row's output cells (null when none was computed). */
  def result(cells: Array[Any]): Any =
    if (cells.forall(_ == null)) null
    else if (cells.length == 1) toCatalyst(0)(cells(0))
    else InternalRow.fromSeq(cells.indices.map(k => toCatalyst(k)(cells(k))))

  override def eval(row: InternalRow): Any =
    result(inference.run(IndexedSeq(inputs(row, children)))(0))

  override protected def withNewChildrenInternal(newChildren: IndexedSeq[Expression]): ModelCall =
    copy(children = newChildren)

  override def prettyName: String = functionName

  override def flatArguments: Iterator[Any] = Iterator(model) ++ children.iterator

  override def sql: String = s"$functionName('$model', ${children.map(_.sql).mkString(", ")})"
}

object ModelCall {

  /**
   * A float-array output cell ([[sparkdl.inference.OutputFormat.FloatArrayOutput]]) as Catalyst
   * data.
   */
  def toCatalyst(cell: Any): ArrayData = cell match {
    case null => null
    case floats: ArraySeq.ofFloat =>
      UnsafeArrayData.fromPrimitiveArray(floats.unsafeArray) // no further copy
    case floats: Seq[_] =>
      UnsafeArrayData.fromPrimitiveArray(floats.asInstanceOf[Seq[Float]].toArray)
  }

  /** How cells of `format` become Catalyst values. */
  def converter(format: OutputFormat): Any => Any = format match {
    case OutputFormat.FloatArrayOutput => toCatalyst
    case f => CatalystTypeConverters.createToCatalystConverter(f.dataType)
  }
}
