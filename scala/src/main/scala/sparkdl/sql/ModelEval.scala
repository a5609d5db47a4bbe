package sparkdl.sql

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{
  Attribute, AttributeReference, AttributeSet, BindReferences, Expression, JoinedRow,
  NamedExpression, UnsafeProjection, UnsafeRow
}
import org.apache.spark.sql.catalyst.plans.logical.{Filter, LogicalPlan, Project, UnaryNode}
import org.apache.spark.sql.catalyst.rules.Rule
import org.apache.spark.sql.execution.{SparkPlan, SparkStrategy, UnaryExecNode}
import org.apache.spark.sql.execution.metric.{SQLMetric, SQLMetrics}
import org.apache.spark.sql.internal.SQLConf

import sparkdl.inference.{AutoBatchSize, Engines}

/**
 * The model calls of a query, evaluated in batches of `batchSize` rows (0: auto): of each of
 * `child`'s rows, the columns read above (`passThrough`) and one column per call (`resultAttrs`).
 * Planned as [[ModelEvalExec]].
 */
final case class ModelEval(calls: Seq[ModelCall], resultAttrs: Seq[Attribute], batchSize: Int,
                           passThrough: Seq[Attribute], child: LogicalPlan)
  extends UnaryNode {
  override def output: Seq[Attribute] = passThrough ++ resultAttrs
  override def producedAttributes: AttributeSet = AttributeSet(resultAttrs)
  override protected def withNewChildInternal(newChild: LogicalPlan): ModelEval =
    copy(child = newChild)
}

/**
 * Pulls the model calls out of each `Project` and `Filter` into [[ModelEval]] nodes under it, as
 * Spark does for Python UDFs. Runs after the operator optimizations (a pre-CBO rule), so filters
 * and column pruning have already reached the scan (a call whose column nobody reads is gone by
 * then). Calls elsewhere (an aggregate, a join condition) stay row-at-a-time expressions. A call
 * that takes another call's result gets its own node above the other's.
 */
object ExtractModelCalls extends Rule[LogicalPlan] {

  override def apply(plan: LogicalPlan): LogicalPlan = plan.transformUp {
    case Project(list, child) if hasCall(list) =>
      val (rewritten, evaluated) = extract(list, child, AttributeSet.empty)
      Project(rewritten.map(_.asInstanceOf[NamedExpression]), evaluated)
    case Filter(condition, child) if hasCall(Seq(condition)) =>
      val (Seq(rewritten), evaluated) = extract(Seq(condition), child, AttributeSet(child.output))
      Project(child.output, Filter(rewritten, evaluated))
  }

  private def hasCall(exprs: Seq[Expression]): Boolean =
    exprs.exists(_.exists(_.isInstanceOf[ModelCall]))

  /** The calls' rows per run: a stage's own, else the session's (0 = auto). */
  private def sizeOf(call: ModelCall): Int =
    call.batchSize.getOrElse(ModelEvalExec.sessionBatchSize(SQLConf.get))

  /**
   * `exprs` with each call replaced by its result column, and the nodes that compute them over
   * `child`. Each node passes on only the columns read above it (by `exprs`, the calls of the nodes
   * above, and `alsoNeeded`): a model's input image is not copied on if nothing reads it.
   */
  private def extract(exprs: Seq[Expression], child: LogicalPlan,
                      alsoNeeded: AttributeSet): (Seq[Expression], LogicalPlan) = {
    var current = exprs
    var plan = child
    while (hasCall(current)) {
      val innermost = current.flatMap(_.collect {
        case c: ModelCall if !hasCall(c.children) => c
      }).distinct
      // one node per batch size; under auto, one per call (each model measures its own)
      val groups =
        innermost.groupBy(c => if (sizeOf(c) == 0) Left(c) else Right(sizeOf(c))).values.toSeq
      val attrs =
        groups.map(_.map(c => AttributeReference(c.functionName, c.dataType, nullable = true)()))
      val replaced: Map[Expression, Expression] = groups.flatten.zip(attrs.flatten).toMap
      current = current.map(_.transformUp {
        case c: ModelCall if replaced.contains(c) => replaced(c)
      })
      groups.indices.foreach { g =>
        val needed = alsoNeeded ++ AttributeSet(current.flatMap(_.references)) ++
          AttributeSet(groups.drop(g + 1).flatten.flatMap(_.references)) ++
          AttributeSet(attrs.take(g).flatten)
        plan = ModelEval(
          groups(g), attrs(g), sizeOf(groups(g).head), plan.output.filter(needed.contains), plan)
      }
    }
    (current, plan)
  }
}

object ModelEvalStrategy extends SparkStrategy {
  override def apply(plan: LogicalPlan): Seq[SparkPlan] = plan match {
    case ModelEval(calls, attrs, size, passThrough, child) =>
      ModelEvalExec(calls, attrs, size, passThrough, planLater(child)) :: Nil
    case _ => Nil
  }
}

/**
 * Streams each partition through the models in batches: per batch and call, one model run for the
 * batch's non-null inputs. Rows stay `InternalRow`s; only a call's input columns are converted.
 * Memory: one batch of rows. `batchSize` 0 is auto ([[AutoBatchSize]]).
 */
final case class ModelEvalExec(calls: Seq[ModelCall], resultAttrs: Seq[Attribute], batchSize: Int,
                               passThrough: Seq[Attribute], child: SparkPlan)
  extends UnaryExecNode {

  override def nodeName: String = "SparkdlModelEval"
  override def output: Seq[Attribute] = passThrough ++ resultAttrs
  override def producedAttributes: AttributeSet = AttributeSet(resultAttrs)
  override def simpleString(maxFields: Int): String =
    s"$nodeName [${calls.map(_.sql).mkString(", ")}] " +
      s"batchSize=${if (batchSize == 0) "auto" else batchSize} " +
      s"engine=${calls.head.inference.model.value.engines match {
          case Seq(one) => one
          case _ => Engines.Auto
        }}"

  override lazy val metrics: Map[String, SQLMetric] = Map(
    "modelRuns" -> SQLMetrics.createMetric(sparkContext, "number of model runs"),
    "batchSize" ->
      SQLMetrics.createAverageMetric(sparkContext, "rows per model run (last batch of each task)"),
    "numOutputRows" -> SQLMetrics.createMetric(sparkContext, "number of output rows")) ++
    ModelEvalExec.EngineMetrics.map { case (engine, key) =>
      key -> SQLMetrics.createMetric(sparkContext, s"model runs on ${Engines.describe(engine)}")
    }

  override protected def doExecute(): RDD[InternalRow] = {
    require(batchSize >= 0, s"batch size must be >= 1, or 0 for auto; got $batchSize")
    val inputs = calls.map(c => c.children.map(BindReferences.bindReference(_, child.output)))
    val (runs, sizes, rowsOut) =
      (longMetric("modelRuns"), longMetric("batchSize"), longMetric("numOutputRows"))
    // a batch never holds more rows than fit in an executor's
    // batch memory (BatchMemory), whatever the size asked
    val cap = calls.map(_.inference.maxBatchRows).min
    val (fixed, theCalls, window) =
      (math.min(batchSize, cap), calls, ModelEvalExec.sortWindow(conf))
    val (kept, joinedSchema) = (output, child.output ++ resultAttrs)
    child.execute().mapPartitions { rows =>
      // Inputs of uneven cost (texts) are scored in blocks of `window` rows, sorted by cost into
      // batches so a batch pads to rows of its own length; the rows still leave in their order.
      val sorting = window > 0 && theCalls.size == 1 &&
        theCalls.head.inference.inputs.exists(_.sortsByCost)
      // batch size auto, or a model with several engines: measured ([[AutoBatchSize]])
      val model = theCalls.head.inference.model.value
      val tuner = if (fixed > 0 && model.engines.length == 1) None
      else Some(AutoBatchSize.forModel(model, theCalls.head.sql, interleaved = sorting,
          maxSize = cap, fixedSize = fixed))
      val engineRuns = theCalls.map(_.inference.model.value.engines.map(e =>
          longMetric(ModelEvalExec.EngineMetrics(e))))
      val fixedChoice = AutoBatchSize.Choice(0, fixed)
      val joined = new JoinedRow
      // the pass-through columns and the results
      val project = UnsafeProjection.create(kept, joinedSchema)

      /**
       * Runs the calls on the rows `order` picks (one batch of at most `size`), each row's results
       * into `out`. `converted`: the first call's inputs of every row, when already converted.
       * `since`: when the batch's rows began to be read (`System.nanoTime`), so the time measured
       * for batch size and engine auto is what the batch costs end to end (reading and decoding the
       * rows too, and what an engine's threads take from the task decoding beside it), not the
       * model run alone.
       */
      def runBatch(rows: scala.collection.IndexedSeq[InternalRow], order: IndexedSeq[Int],
                   choice: AutoBatchSize.Choice,
                   out: Array[Seq[Any]], converted: IndexedSeq[Seq[Any]], since: Long): Unit = {
        // rows of the batch the (first) model ran on: a batch of nulls is no measurement
        var fed = 0
        val results = theCalls.indices.map { k =>
          val values =
            if (k == 0 && converted != null) order.map(converted)
            else order.map(i => theCalls(k).inputs(rows(i), inputs(k)))
          val nonNull = values.count(!_.contains(null))
          if (k == 0) fed = nonNull
          // the first call's batches go to the engine measured or chosen, the others' to their own
          val engine = if (k == 0) choice.engine else 0
          if (nonNull > 0) {
            runs += 1
            engineRuns(k)(engine) += 1
          }
          theCalls(k).inference.run(values, engine).map(theCalls(k).result)
        }
        tuner.foreach(_.record(choice, fed, System.nanoTime() - since))
        // Spark shows an average metric's values divided by 10 (one decimal)
        sizes.set(choice.size.toLong * 10)
        order.indices.foreach(j => out(order(j)) = results.map(_(j)))
      }

      /**
       * The next block of rows, their results joined. `blockStart`: when the caller began to ask
       * for its first row (a scan reads and decodes that row in `hasNext`, before this is called),
       * and a batch is timed from there; for a partition's first block, from after its input was
       * opened.
       */
      def nextBlock(blockStart: Long): Iterator[InternalRow] = {
        val first = tuner.map(_.next()).getOrElse(fixedChoice)
        val limit = if (sorting) math.max(window, first.size) else first.size
        val block = new scala.collection.mutable.ArrayBuffer[InternalRow](math.min(limit, 4096))
        // a sort window also stops at SortWindowMaxBytes of rows (long texts, wide rows)
        var bytes = 0L
        while (block.length < limit && rows.hasNext &&
            (!sorting || bytes < ModelEvalExec.SortWindowMaxBytes)) {
          val row = rows.next().copy()
          bytes += (row match { case u: UnsafeRow => u.getSizeInBytes.toLong; case _ => 0L })
          block += row
        }
        // sorting: the inputs are converted once, for the costs and for the runs
        val converted = if (sorting)
          block.map(row => theCalls.head.inputs(row, inputs.head)).toIndexedSeq
        else null
        val order =
          if (!sorting) block.indices
          else {
            val in = theCalls.head.inference.inputs.indexWhere(_.sortsByCost)
            val costs = converted.map(v =>
              if (v(in) == null) 0 else theCalls.head.inference.inputs(in).cost(v(in)))
            block.indices.sortBy(costs)
          }
        val out = new Array[Seq[Any]](block.length)
        var at = 0
        var choice = first
        while (at < block.length) {
          val chunk = order.slice(at, at + choice.size)
          // unsorted, a block is one batch: timed from its first row read
          runBatch(block, chunk, choice, out, converted,
            if (sorting) System.nanoTime() else blockStart)
          at += chunk.length
          choice = tuner.map(_.next()).getOrElse(fixedChoice)
        }
        rowsOut += block.length
        block.iterator.zipWithIndex.map { case (row, i) =>
          project(joined(row, InternalRow.fromSeq(out(i))))
        }
      }

      new Iterator[InternalRow] {
        private var current: Iterator[InternalRow] = Iterator.empty
        private var started = false
        override def hasNext: Boolean = current.hasNext || {
          // the partition's first hasNext also opens its input (files, shuffle blocks, a sort of
          // the whole partition): no batch's cost, so its first block is timed from after it
          val asked = System.nanoTime()
          rows.hasNext && {
            current = nextBlock(if (started) asked else System.nanoTime())
            started = true
            current.hasNext
          }
        }
        override def next(): InternalRow = {
          if (!hasNext) throw new NoSuchElementException("end of partition")
          current.next()
        }
      }
    }
  }

  override protected def withNewChildInternal(newChild: SparkPlan): ModelEvalExec =
    copy(child = newChild)
}

object ModelEvalExec {

  /** The node's metric of model runs per engine, by engine. */
  val EngineMetrics: Map[String, String] =
    Map(Engines.TensorFlow -> "tfRuns", Engines.Onnx -> "onnxRuns")

  /**
   * Model runs per engine (`tf`, `onnx`) of every model node of an executed plan (adaptive plans:
   * their final plan), as the SQL tab of Spark's UI shows them.
   */
  def runsByEngine(plan: SparkPlan): Map[String, Long] = {
    def nodes(p: SparkPlan): Seq[SparkPlan] = p match {
      case a: org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec => nodes(a.executedPlan)
      case q: org.apache.spark.sql.execution.adaptive.QueryStageExec => nodes(q.plan)
      case other => other +: other.children.flatMap(nodes)
    }
    val evals = nodes(plan).collect { case e: ModelEvalExec => e }
    EngineMetrics.map { case (engine, key) => engine -> evals.map(_.metrics(key).value).sum }
  }

  /** Rows per model run in SQL queries: a number, or `auto` (the default). */
  val BatchSizeConf = "spark.sparkdl.sql.batchSize"

  /**
   * Rows sorted together by cost (texts by length) before they are cut into batches: a number
   * (default 4096; memory holds that many rows, and at most [[SortWindowMaxBytes]] of them), 0 to
   * feed rows in their order. Measured on 10,000 sentences in 8 partitions (docs/PERFORMANCE.md):
   * windows of 512 rows ran 257/s, windows that sort each partition whole 359/s.
   */
  val SortWindowConf = "spark.sparkdl.sql.sortWindow"

  /** The most row bytes a sort window holds, whatever its row count. */
  val SortWindowMaxBytes: Long = 64L << 20

  def sortWindow(conf: SQLConf): Int = {
    val s = conf.getConfString(SortWindowConf, "4096").trim
    val n = scala.util.Try(s.toInt).getOrElse(-1)
    require(n >= 0, s"$SortWindowConf must be a number >= 0 (0: no sorting), got '$s'")
    n
  }

  /** The session's batch size, 0 for auto. */
  def sessionBatchSize(conf: SQLConf): Int =
    conf.getConfString(BatchSizeConf, "auto").trim.toLowerCase match {
      case "auto" => 0
      case s =>
        val n = scala.util.Try(s.toInt).getOrElse(-1)
        require(n >= 1, s"$BatchSizeConf must be a number >= 1 or 'auto', got '$s'")
        n
    }
}
