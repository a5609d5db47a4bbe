package sparkdl.ml

import java.util.concurrent.atomic.AtomicLong

import org.apache.spark.sql.expressions.UserDefinedFunction
import org.apache.spark.sql.functions.udf

/**
 * Counts rows into and out of a stage, in this (local mode) JVM: `pull` on the stage's input
 * column, `emit` on its output, and `maxAhead` is the most rows the stage held at once.
 */
object StreamCounters {
  val pulled = new AtomicLong
  val emitted = new AtomicLong
  val maxAhead = new AtomicLong

  def reset(): Unit = Seq(pulled, emitted, maxAhead).foreach(_.set(0))

  /** Identity on a long column, counting the rows read. */
  val pull: UserDefinedFunction = udf((i: Long) => {
    pulled.incrementAndGet(); i
  }).asNondeterministic()

  /** Identity on a long column, counting the rows written and recording how far reads ran ahead. */
  val emit: UserDefinedFunction = udf { (i: Long) =>
    maxAhead.accumulateAndGet(pulled.get() - emitted.incrementAndGet(), math.max)
    i
  }.asNondeterministic()
}
