package sparkdl.sql

import org.apache.spark.sql.catalyst.{CatalystTypeConverters, InternalRow}
import org.apache.spark.sql.catalyst.expressions.Expression
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback
import org.apache.spark.sql.types.{BooleanType, DataType}

import sparkdl.inference.BatchInput

/**
 * Whether the model can score a row: no input is null and every input takes its value
 * ([[BatchInput.incompatibility]]: sizes, channels; no model run). `handleInvalid = "skip"` is a
 * filter on this before the [[ModelCall]], so dropping rows stays a plain, cheap, pushable
 * predicate and the model never runs twice.
 */
final case class ModelInputValid(functionName: String, children: Seq[Expression],
                                 inputs: Seq[BatchInput])
  extends Expression with CodegenFallback {

  require(children.length == inputs.length, "one input per argument")

  override def dataType: DataType = BooleanType
  override def nullable: Boolean = false

  @transient private lazy val toScala =
    children.map(c => CatalystTypeConverters.createToScalaConverter(c.dataType))

  override def eval(row: InternalRow): Any = children.indices.forall { k =>
    val v = children(k).eval(row)
    v != null && inputs(k).incompatibility(toScala(k)(v)).isEmpty
  }

  override protected def withNewChildrenInternal(
      newChildren: IndexedSeq[Expression]): ModelInputValid =
    copy(children = newChildren)

  override def prettyName: String = s"${functionName}_can_score"

  override def flatArguments: Iterator[Any] = children.iterator
}
