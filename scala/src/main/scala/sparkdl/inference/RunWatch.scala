package sparkdl.inference

import java.util.concurrent.{Executors, ScheduledExecutorService, ThreadFactory, TimeUnit}

import org.apache.spark.{SparkThrowable, TaskContext}

/**
 * How a model run in progress is ended early. The engine registers its way to stop ([[onStop]]:
 * ONNX Runtime's terminate flag; for a TensorFlow graph with loops, the flag its loops check,
 * [[sparkdl.tf.LoopGuard]]); [[RunWatch]] calls it once. A run that registers none is not stopped.
 */
final class RunControl {
  @volatile private var stopper: Option[() => Unit] = None
  @volatile private[inference] var stopped = false

  /** Registers how to stop the run; if it was stopped already, stops at once. */
  def onStop(stop: () => Unit): Unit = {
    stopper = Some(stop)
    if (stopped) stop()
  }

  private[inference] def stop(): Unit = {
    stopped = true
    stopper.foreach(_())
  }
}

/**
 * A model run ended early: its task was killed (a cancelled job) or it ran past
 * `spark.sparkdl.runTimeout`.
 */
final class ModelRunStoppedException(message: String, cause: Throwable)
  extends RuntimeException(message, cause) with SparkThrowable {
  override def getCondition: String = "SPARKDL_MODEL_RUN_STOPPED"
  override def getSqlState: String = "57014" // query canceled
  override def getDefaultMessageTemplate: String = message
}

/**
 * Watches model runs from beside them: every 100 ms, a run whose Spark task was killed (its job
 * cancelled with `cancelJobGroup`, a stage failed, a speculative copy no longer needed) or that has
 * run longer than the Spark conf `spark.sparkdl.runTimeout` (e.g. `30s`; default none) is stopped
 * through its [[RunControl]], so the engine returns, the task ends and its cores run the next job.
 * An untrusted model with a loop that never ends (an ONNX `Loop` with trip count 2^62, a TensorFlow
 * `while_loop(True)`) dies with the timeout's message.
 */
object RunWatch {

  val TimeoutConf = "spark.sparkdl.runTimeout"

  private lazy val ticker: ScheduledExecutorService =
    Executors.newSingleThreadScheduledExecutor(new ThreadFactory {
      override def newThread(r: Runnable): Thread = {
        val t = new Thread(r, "sparkdl-run-watch")
        t.setDaemon(true)
        t
      }
    })

  /**
   * `run(control)`, stopped through `control` when its task is killed or after `timeoutMs` (> 0).
   */
  def apply[T](what: String, timeoutMs: Long)(run: RunControl => T): T = {
    val task = TaskContext.get() // null on the driver: no task to be killed
    if (task == null && timeoutMs <= 0) return run(new RunControl)
    val control = new RunControl
    val start = System.nanoTime()
    @volatile var why: String = null
    val check = ticker.scheduleAtFixedRate(() =>
        if (why == null) {
          if (task != null && task.isInterrupted()) {
            why = "its Spark task was killed (a cancelled job, a failed stage)"
            control.stop()
          } else if (timeoutMs > 0 && System.nanoTime() - start > timeoutMs * 1000000L) {
            why = s"it ran longer than $TimeoutConf=${timeoutMs}ms"
            control.stop()
          }
        }, 100, 100, TimeUnit.MILLISECONDS)
    try run(control)
    catch {
      case e: Exception if why != null =>
        throw new ModelRunStoppedException(s"$what was stopped: $why", e)
    } finally check.cancel(false)
  }
}
