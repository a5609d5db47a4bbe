package sparkdl.inference

import java.util.concurrent.ConcurrentHashMap

import scala.collection.mutable
import scala.jdk.CollectionConverters._

import org.slf4j.LoggerFactory

/**
 * Batch size `auto` and engine `auto`: per model and JVM, the number of rows per model run, and the
 * engine that runs them when the model has several forms ([[EngineChoice]]), are chosen by
 * measuring the first batches of real input, not by habit. On a CPU with several tasks sharing one
 * session, large batches are often slower per row (activations leave the caches); on a GPU the
 * opposite; and which engine is faster depends on the model and the machine. So every JVM finds out
 * for itself.
 *
 * How: a candidate is an engine and a batch size ([[Choice]]). Per engine, sizes are tried in
 * increasing order ([[Candidates]], or the one size the user fixed), each for at least [[Runs]]
 * timed model runs and [[MinRows]] rows, after one untimed run at that size (first runs pay for
 * allocations); the time per row of a candidate is the median of its runs, each timed from the
 * first row of its batch read to its last result (rows in their order; for rows sorted by cost, the
 * model call alone), so it counts what a batch costs end to end: reading and decoding the rows, and
 * what an engine's threads take from the task decoding beside it. An engine's search stops once two
 * sizes in a row are more than [[Tolerance]] slower per row than its best so far (one could be
 * noise: tasks share the cores), or after its last size; then the next engine is measured the same
 * way. With several engines, the best size of each then runs again in a final round, in turns (a
 * batch each, alternating, [[FinalRuns]] runs and [[FinalRows]] rows each), and the faster of those
 * fresh, interleaved runs is kept: the searches ran one after the other, so a slowdown that lasted
 * through one of them (the JIT compiling the decoding beside it, a collection, the other task's
 * phase) would otherwise decide the engine. Every row of the warm-up is real work: its results are
 * used. Concurrent tasks of the JVM share the measurement (they share the sessions and the cores,
 * as they will after it). The choice is logged once and kept for the life of the JVM ([[chosen]],
 * [[chosenEngine]]).
 */
object AutoBatchSize {

  val Candidates: IndexedSeq[Int] = IndexedSeq(1, 2, 4, 8, 16, 32, 64)
  val Runs = 3
  val MinRows = 32
  val Tolerance = 1.10
  val FinalRuns = 6
  val FinalRows = MinRows

  /**
   * One way to run a batch: the model's form `engine` (an index into `Model.engines`), `size` rows.
   */
  final case class Choice(engine: Int, size: Int)

  private val log = LoggerFactory.getLogger(getClass)
  private val tuners = new ConcurrentHashMap[String, Tuner]()

  /**
   * The tuner of `model` in this JVM; `label` names the model in the log line. `interleaved`: the
   * rows come sorted by cost (texts by length), so candidates are tried in turn, a batch each,
   * round after round (see [[Tuner]]). `fixedSize`: the batch size the user set (0: auto, sizes up
   * to `maxSize`); with one size and one engine there is nothing to choose, and no tuner is needed.
   * When the choice is made, the model's sessions are told which engine to keep
   * ([[ModelSession.keepEngine]]).
   */
  def forModel(model: Model, label: String, interleaved: Boolean = false,
               maxSize: Int = Int.MaxValue, fixedSize: Int = 0): Tuner = {
    val sizes =
      if (fixedSize > 0) IndexedSeq(fixedSize) else Candidates.filter(_ <= maxSize).padTo(1, 1)
    tuners.computeIfAbsent(s"${model.hash}|${sizes.mkString(",")}",
      _ =>
        new Tuner(label, interleaved, sizes, model.engines,
          engine => SessionCache.withSession(model)(_.keepEngine(engine))))
  }

  /** The size chosen for the model with this hash in this JVM, once chosen. */
  def chosen(modelHash: String): Option[Int] = decided(modelHash).map(_._2.size)

  /** The engine chosen for the model with this hash in this JVM (`tf`, `onnx`), once chosen. */
  def chosenEngine(modelHash: String): Option[String] =
    decided(modelHash).map { case (tuner, choice) => tuner.engines(choice.engine) }

  private def decided(modelHash: String): Option[(Tuner, Choice)] =
    tuners.asScala.collectFirst {
      case (key, tuner) if key.startsWith(modelHash + "|") && tuner.chosen.nonEmpty =>
        (tuner, tuner.chosen.get)
    }

  /**
   * Every choice made in this JVM: (the label of the model's call, its engine, its batch size, the
   * median ms per row of each candidate measured, by engine and size).
   */
  def choices: Seq[(String, String, Int, Map[(String, Int), Double])] =
    tuners.values.asScala.toSeq.flatMap(t =>
      t.chosen.map(c =>
        (t.label, t.engines(c.engine), c.size,
          t.measured)))

  /** Forgets every measurement (tests and benchmarks). */
  def reset(): Unit = tuners.clear()

  /**
   * Where the choice for one model stands in this JVM. Thread-safe.
   *
   * In order (the default), each candidate is measured in turn until done, engine after engine. In
   * turns (rows sorted by cost, so each batch costs more per row than the one before), the
   * candidates take turns, one batch each, round after round, until every candidate has its runs:
   * consecutive batches see rows of about the same cost, so no candidate is measured only on the
   * cheap rows at the start of a sorted window; every candidate is tried ([[Runs]] timed batches
   * each, after an untimed one: four rounds, 508 rows per engine), the fastest per row kept.
   */
  final class Tuner private[AutoBatchSize] (val label: String, interleaved: Boolean,
                                            sizes: IndexedSeq[Int], val engines: Seq[String],
                                            keep: Int => Unit) {
    // every candidate, engine after engine
    private val order: IndexedSeq[Choice] =
      engines.indices.flatMap(e => sizes.map(Choice(e, _)))
    private var step = 0 // index into order being measured
    private val untimed = mutable.Set[Choice]() // candidates that have had their untimed run
    private var worse = 0 // consecutive sizes measured slower than the engine's best by Tolerance
    private val perRow = mutable.Map[Choice, mutable.ArrayBuffer[Double]]()
    // the final round: each engine's best size, in turns
    private var finalists = IndexedSeq.empty[Choice]
    private var turn = 0 // index into finalists of the next batch
    private val finalPerRow = mutable.Map[Choice, mutable.ArrayBuffer[Double]]()
    @volatile private var decided: Option[Choice] = None

    def chosen: Option[Choice] = decided

    /** The engine and size of the next batch. */
    def next(): Choice = decided.getOrElse(synchronized(decided.getOrElse(
          if (finalists.nonEmpty) finalists(turn) else order(step))))

    /**
     * Timed runs a candidate needs: [[Runs]] and [[MinRows]] rows; in turns, [[Runs]] (rounds stay
     * whole).
     */
    private def runsNeeded(c: Choice): Int =
      if (interleaved) Runs else math.max(Runs, (MinRows + c.size - 1) / c.size)

    private def done(c: Choice): Boolean = perRow.get(c).exists(_.length >= runsNeeded(c))

    private def finalDone(c: Choice): Boolean = finalPerRow.get(c)
      .exists(_.length >= math.max(FinalRuns, (FinalRows + c.size - 1) / c.size))

    /** Records one run of `rows` rows (a full batch of `choice`) that took `nanos`. */
    def record(choice: Choice, rows: Int, nanos: Long): Unit = {
      val decidedNow = synchronized {
        if (decided.nonEmpty || rows != choice.size) false
        else if (finalists.nonEmpty) {
          // any finalist's full batch counts (tasks ask for the next batch concurrently); turns
          // go on until every finalist has its runs
          val at = finalists.indexOf(choice)
          if (at >= 0) {
            finalPerRow.getOrElseUpdate(choice, mutable.ArrayBuffer()) += nanos.toDouble / rows
            turn = (at + 1) % finalists.length
            if (finalists.forall(finalDone)) decide()
          }
          decided.nonEmpty
        } else if (choice != order(step)) false
        else {
          if (!untimed(choice)) untimed += choice
          else perRow.getOrElseUpdate(choice, mutable.ArrayBuffer()) += nanos.toDouble / rows
          if (!interleaved) { if (done(choice)) advance() }
          else if (order.forall(done)) decide()
          else step = Iterator.iterate((step + 1) % order.length)(i => (i + 1) % order.length)
            .find(i => !done(order(i))).get
          decided.nonEmpty
        }
      }
      if (decidedNow && engines.length > 1) keep(decided.get.engine)
    }

    /**
     * Median ms per row of each candidate measured so far, by engine and size: for the finalists,
     * of their runs in the final round.
     */
    def measured: Map[(String, Int), Double] = synchronized {
      (perRow.keys.filter(done).map(c => (engines(c.engine), c.size) -> median(c) / 1e6) ++
        finalPerRow.keys.filter(finalDone)
          .map(c => (engines(c.engine), c.size) -> median(finalPerRow(c)) / 1e6)).toMap
    }

    private def median(c: Choice): Double = median(perRow(c))

    private def median(runs: mutable.ArrayBuffer[Double]): Double = {
      val s = runs.sorted
      s(s.length / 2)
    }

    private def advance(): Unit = {
      val current = order(step)
      val best = perRow.keys.filter(_.engine == current.engine).minBy(median)
      worse = if (median(current) > Tolerance * median(best)) worse + 1 else 0
      val engineDone = worse >= 2 || current.size == sizes.last
      if (!engineDone) step += 1
      else if (current.engine == engines.length - 1) {
        if (engines.length == 1) decide()
        else finalists = engines.indices.map(e => perRow.keys.filter(_.engine == e).minBy(median))
      } else {
        worse = 0
        step = order.indexWhere(_.engine == current.engine + 1)
      }
    }

    private def decide(): Unit = {
      val best =
        if (finalists.isEmpty) perRow.keys.minBy(median)
        else finalists.minBy(c => median(finalPerRow(c)))
      decided = Some(best)
      def listed(runs: mutable.Map[Choice, mutable.ArrayBuffer[Double]]) =
        runs.keys.toSeq.sortBy(c => (c.engine, c.size)).map { c =>
          f"${if (engines.length > 1) engines(c.engine) + " " else ""}${c.size}: " +
            f"${median(runs(c)) / 1e6}%.2f"
        }.mkString(", ")
      val measured = listed(perRow) +
        (if (finalists.isEmpty) "" else s"; then in turns: ${listed(finalPerRow)}")
      val what = if (engines.length > 1) "engine and batch size" else "batch size"
      val picked =
        if (engines.length > 1) s"${engines(best.engine)}, ${best.size}" else s"${best.size}"
      log.info(s"sparkdl: $what auto for $label: $picked (ms per row at each " +
        s"${if (engines.length > 1) "engine and size" else "size"} tried" +
        s"${if (interleaved) ", in turns" else ""}: $measured)")
    }
  }
}
