package sparkdl.inference

import java.util.concurrent.ConcurrentHashMap

import scala.collection.mutable

import org.slf4j.LoggerFactory

/**
 * Batch size `auto`: per model and JVM, the number of rows per model run is chosen by measuring the
 * first batches of real input, not by habit. On a CPU with several tasks sharing one session, large
 * batches are often slower per row (activations leave the caches); on a GPU the opposite. So every
 * JVM finds out for itself.
 *
 * How: candidate sizes are tried in increasing order ([[Candidates]]), each for at least [[Runs]]
 * timed model runs and [[MinRows]] rows, after one untimed run at that size (first runs pay for
 * allocations); the time per row at a size is the median of its runs. The search stops once two
 * sizes in a row are more than [[Tolerance]] slower per row than the best so far (one could be
 * noise: tasks share the cores), or after the last candidate, and keeps the fastest. Every row of
 * the warm-up is real work: its results are used. Concurrent tasks of the JVM share the measurement
 * (they share the session and the cores, as they will after it). The choice is logged once and kept
 * for the life of the JVM ([[chosen]]).
 */
object AutoBatchSize {

  val Candidates: IndexedSeq[Int] = IndexedSeq(1, 2, 4, 8, 16, 32, 64)
  val Runs = 3
  val MinRows = 32
  val Tolerance = 1.10

  private val log = LoggerFactory.getLogger(getClass)
  private val tuners = new ConcurrentHashMap[String, Tuner]()

  /**
   * The tuner of `model` in this JVM; `label` names the model in the log line. `interleaved`: the
   * rows come sorted by cost (texts by length), so sizes are tried in turn, a batch each, round
   * after round (see [[Tuner]]).
   */
  def forModel(model: Model, label: String, interleaved: Boolean = false,
               maxSize: Int = Int.MaxValue): Tuner =
    tuners.computeIfAbsent(model.hash,
      _ => new Tuner(label, interleaved, Candidates.filter(_ <= maxSize).padTo(1, 1)))

  /** The size chosen for the model with this hash in this JVM, once chosen. */
  def chosen(modelHash: String): Option[Int] = Option(tuners.get(modelHash)).flatMap(_.chosen)

  /** Forgets every measurement (tests and benchmarks). */
  def reset(): Unit = tuners.clear()

  /**
   * Where the batch size of one model stands in this JVM. Thread-safe.
   *
   * In order (the default), each size is measured in turn until done. Interleaved (rows sorted by
   * cost, so each batch costs more per row than the one before), the sizes take turns, one batch
   * each, round after round, until every size has its runs: consecutive batches see rows of about
   * the same cost, so no size is measured only on the cheap rows at the start of a sorted window;
   * every size is tried ([[Runs]] timed batches each, after an untimed one: four rounds, 508 rows),
   * the fastest per row kept.
   */
  final class Tuner private[AutoBatchSize] (label: String, interleaved: Boolean,
                                            sizes: IndexedSeq[Int]) {
    private var step = 0 // index into Candidates being measured
    private val untimed = mutable.Set[Int]() // sizes that have had their untimed run
    private var worse = 0 // consecutive sizes measured slower than the best by more than Tolerance
    private val perRow = mutable.Map[Int, mutable.ArrayBuffer[Double]]()
    @volatile private var decided: Option[Int] = None

    def chosen: Option[Int] = decided

    /** The size of the next batch. */
    def next(): Int = decided.getOrElse(synchronized(decided.getOrElse(sizes(step))))

    /**
     * Timed runs a size needs: [[Runs]] and [[MinRows]] rows; interleaved, [[Runs]] (rounds stay
     * whole).
     */
    private def runsNeeded(size: Int): Int =
      if (interleaved) Runs else math.max(Runs, (MinRows + size - 1) / size)

    private def done(size: Int): Boolean = perRow.get(size).exists(_.length >= runsNeeded(size))

    /** Records one run of `rows` rows (a full batch of `size`) that took `nanos`. */
    def record(size: Int, rows: Int, nanos: Long): Unit = synchronized {
      if (decided.isEmpty && rows == size && size == sizes(step)) {
        if (!untimed(size)) untimed += size
        else perRow.getOrElseUpdate(size, mutable.ArrayBuffer()) += nanos.toDouble / rows
        if (!interleaved) { if (done(size)) advance() }
        else if (sizes.forall(done)) decide()
        else step = Iterator.iterate((step + 1) % sizes.length)(i => (i + 1) % sizes.length)
          .find(i => !done(sizes(i))).get
      }
    }

    private def median(size: Int): Double = {
      val s = perRow(size).sorted
      s(s.length / 2)
    }

    private def advance(): Unit = {
      val best = perRow.keys.minBy(median)
      val current = sizes(step)
      worse = if (median(current) > Tolerance * median(best)) worse + 1 else 0
      if (worse >= 2 || step == sizes.length - 1) decide()
      else step += 1
    }

    private def decide(): Unit = {
      val best = perRow.keys.minBy(median)
      decided = Some(best)
      val measured = perRow.keys.toSeq.sorted.map(s => f"$s: ${median(s) / 1e6}%.2f").mkString(", ")
      log.info(s"sparkdl: batch size auto for $label: $best (ms per row at each size tried" +
        s"${if (interleaved) ", in turns" else ""}: $measured)")
    }
  }
}
