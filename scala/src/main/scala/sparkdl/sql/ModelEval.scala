package sparkdl.sql

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.catalyst.{CatalystTypeConverters, InternalRow}
import org.apache.spark.sql.catalyst.expressions.{
  Attribute, AttributeReference, AttributeSet, BindReferences, Expression, JoinedRow, NamedExpression,
  UnsafeProjection
}
import org.apache.spark.sql.catalyst.plans.logical.{LogicalPlan, Project, UnaryNode}
import org.apache.spark.sql.catalyst.rules.Rule
import org.apache.spark.sql.execution.{SparkPlan, SparkStrategy, UnaryExecNode}
import org.apache.spark.sql.execution.metric.{SQLMetric, SQLMetrics}

/**
 * The model calls of a query, evaluated in batches: `child`'s rows with one column per call
 * appended (`resultAttrs`). Planned as [[ModelEvalExec]].
 */
final case class ModelEval(calls: Seq[ModelCall], resultAttrs: Seq[Attribute], child: LogicalPlan)
  extends UnaryNode {
  override def output: Seq[Attribute] = child.output ++ resultAttrs
  override def producedAttributes: AttributeSet = AttributeSet(resultAttrs)
  override protected def withNewChildInternal(newChild: LogicalPlan): ModelEval = copy(child = newChild)
}

/**
 * Pulls the model calls out of each `Project` into a [[ModelEval]] under it, as Spark does for
 * Python UDFs. Runs after the operator optimizations (a pre-CBO rule), so filters and column
 * pruning have already reached the scan. Calls elsewhere (a `Filter`, an aggregate) stay
 * row-at-a-time expressions.
 */
object ExtractModelCalls extends Rule[LogicalPlan] {
  override def apply(plan: LogicalPlan): LogicalPlan = plan.transformUp {
    case Project(list, child) if list.exists(_.exists(_.isInstanceOf[ModelCall])) =>
      val calls = list.flatMap(_.collect { case c: ModelCall => c }).distinct
      val attrs = calls.map(c => AttributeReference(c.functionName, c.dataType, nullable = true)())
      val byCall: Map[Expression, Attribute] = calls.zip(attrs).toMap
      val rewritten = list.map(_.transformDown { case c: ModelCall => byCall(c) }.asInstanceOf[NamedExpression])
      Project(rewritten, ModelEval(calls, attrs, child))
  }
}

object ModelEvalStrategy extends SparkStrategy {
  override def apply(plan: LogicalPlan): Seq[SparkPlan] = plan match {
    case ModelEval(calls, attrs, child) => ModelEvalExec(calls, attrs, planLater(child)) :: Nil
    case _ => Nil
  }
}

/**
 * Streams each partition through the models in batches of `spark.sparkdl.sql.batchSize` rows
 * (default 32): per batch and call, one model run for the batch's non-null inputs. Rows stay
 * `InternalRow`s; only a call's input column is converted. Memory: one batch of rows.
 */
final case class ModelEvalExec(calls: Seq[ModelCall], resultAttrs: Seq[Attribute], child: SparkPlan)
  extends UnaryExecNode {

  override def nodeName: String = "SparkdlModelEval"
  override def output: Seq[Attribute] = child.output ++ resultAttrs
  override def producedAttributes: AttributeSet = AttributeSet(resultAttrs)
  override def simpleString(maxFields: Int): String =
    s"$nodeName [${calls.map(_.sql).mkString(", ")}] batchSize=$batchSize"

  override lazy val metrics: Map[String, SQLMetric] = Map(
    "modelRuns" -> SQLMetrics.createMetric(sparkContext, "number of model runs"),
    "numOutputRows" -> SQLMetrics.createMetric(sparkContext, "number of output rows"))

  private def batchSize: Int = conf.getConfString(ModelEvalExec.BatchSizeConf, "32").toInt

  override protected def doExecute(): RDD[InternalRow] = {
    val size = batchSize
    require(size >= 1, s"${ModelEvalExec.BatchSizeConf} must be >= 1, got $size")
    val inputs = calls.map(c => BindReferences.bindReference(c.child, child.output))
    val toScala = calls.map(c => CatalystTypeConverters.createToScalaConverter(c.child.dataType))
    val (runs, rowsOut) = (longMetric("modelRuns"), longMetric("numOutputRows"))
    val schema = output
    child.execute().mapPartitions { rows =>
      val joined = new JoinedRow
      val project = UnsafeProjection.create(schema, schema)
      rows.map(_.copy()).grouped(size).flatMap { batch =>
        val results = calls.indices.map { k =>
          val values = batch.map { row =>
            val v = inputs(k).eval(row)
            if (v == null) null else toScala(k)(v)
          }
          if (values.exists(_ != null)) runs += 1
          calls(k).inference.run(values.map(Seq(_)).toIndexedSeq).map { cells =>
            if (cells == null) null else ModelCall.toCatalyst(cells(0))
          }
        }
        rowsOut += batch.size
        batch.iterator.zipWithIndex.map { case (row, i) =>
          project(joined(row, InternalRow.fromSeq(results.map(_(i)))))
        }
      }
    }
  }

  override protected def withNewChildInternal(newChild: SparkPlan): ModelEvalExec = copy(child = newChild)
}

object ModelEvalExec {

  /** Rows per model run in SQL queries. */
  val BatchSizeConf = "spark.sparkdl.sql.batchSize"
}
