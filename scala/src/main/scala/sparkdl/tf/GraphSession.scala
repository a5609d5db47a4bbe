package sparkdl.tf

import scala.util.Using

import org.tensorflow.{Graph, Session}
import org.tensorflow.ndarray.Shape
import org.tensorflow.ndarray.buffer.DataBuffers
import org.tensorflow.proto.{ConfigProto, RunOptions}
import org.tensorflow.types.{TBool, TFloat32, TFloat64, TInt32, TInt64}

import sparkdl.inference.{Feed, ModelSession, RunControl, TensorInfo}

/**
 * One frozen graph loaded into one TensorFlow session. Thread-safe: TensorFlow's `Session.run` may
 * be called concurrently, so every task of a JVM shares one. Obtain instances through
 * [[sparkdl.inference.SessionCache]], which owns their lifetime.
 */
final class GraphSession private[tf] (val frozen: FrozenGraph, config: ConfigProto)
  extends ModelSession {

  private val graph = new Graph()

  /** Whether the graph has loops, guarded by [[LoopGuard]] so that a run can be stopped. */
  private val stoppable: Boolean =
    try {
      val parsed = GraphTensors.parse(frozen)
      val guarded = LoopGuard.guard(parsed) // `parsed` itself when the graph has no loop
      GraphTensors.importInto(graph, frozen, guarded)
      guarded ne parsed
    } catch {
      case e: Exception =>
        graph.close()
        throw e
    }

  private val session: Session =
    try {
      val s = new Session(graph, config)
      if (stoppable) setFlag(s, loopsMayRun = true)
      s
    } catch {
      case e: Exception =>
        graph.close()
        throw e
    }

  @volatile private var closed = false

  def isClosed: Boolean = closed

  private val tensors = new GraphTensors(graph, frozen)

  /** The graph's placeholders: the tensors it can be fed. */
  def placeholders: Seq[TensorInfo] = tensors.placeholders

  def inputNames: Seq[String] = placeholders.map(_.name)

  def outputNames: Seq[String] = frozen.outputs

  def inputInfo(name: String): TensorInfo = tensors.inputInfo(name)

  def outputInfo(name: String): TensorInfo = tensors.outputInfo(name)

  // runs being stopped; while there is one, the session's flag stops every loop (LoopGuard)
  private val stops = new Object
  private var stopsInProgress = 0

  // set from the caller's thread: TensorFlow's inter-op threads may all be spinning in loops
  private val InCallerThread = RunOptions.newBuilder().setInterOpThreadPool(-1).build()

  private def setFlag(s: Session, loopsMayRun: Boolean): Unit =
    Using.resource(TBool.scalarOf(loopsMayRun)) { v =>
      s.runner().feed(LoopGuard.ValueName, v).addTarget(LoopGuard.SetTarget)
        .setOptions(InCallerThread).run().close()
    }

  /**
   * Stops every loop of the session's runs at their next iteration, until [[releaseLoops]] is
   * called as often.
   */
  private[tf] def stopLoops(): Unit = stops.synchronized {
    stopsInProgress += 1
    if (stopsInProgress == 1) setFlag(session, loopsMayRun = false)
  }

  private[tf] def releaseLoops(): Unit = stops.synchronized {
    stopsInProgress -= 1
    if (stopsInProgress == 0) {
      if (!closed) setFlag(session, loopsMayRun = true)
      stops.notifyAll()
    }
  }

  /**
   * Stoppable when the graph has loops: `control` stops the session's loops until this run has
   * returned, so its loop fails at the next iteration. Other runs of the session that were in a
   * loop then fail the same way; they did not ask to stop, so each runs again once no stop is in
   * progress.
   */
  override def run(feeds: Seq[Feed], outputs: Seq[String], control: RunControl)
      : Seq[(Array[Long], Array[Float])] = {
    if (!stoppable) return run(feeds, outputs)
    var result: Option[Seq[(Array[Long], Array[Float])]] = None
    while (result.isEmpty) {
      var done, stopped = false // guarded by `stops`
      control.onStop(() =>
        stops.synchronized {
          if (!done && !stopped) {
            stopped = true
            stopLoops()
          }
        })
      val again =
        try {
          result = Some(run(feeds, outputs))
          false
        } catch {
          case e: GraphException
              if e.getMessage.contains(LoopGuard.StoppedMarker) && !stops.synchronized(stopped) =>
            true
        } finally stops.synchronized {
            done = true
            if (stopped) releaseLoops()
          }
      if (again) {
        GraphSession.reruns.incrementAndGet()
        stops.synchronized(while (stopsInProgress > 0) stops.wait(1000))
      }
    }
    result.get
  }

  /** Runs the graph once; closes every native tensor (inputs and results) before returning. */
  def run(feeds: Seq[Feed], outputs: Seq[String]): Seq[(Array[Long], Array[Float])] = {
    if (closed) throw new IllegalStateException(s"Session for $frozen is closed")
    Feed.checkSizes(feeds)
    val tensors = scala.collection.mutable.ArrayBuffer.empty[org.tensorflow.Tensor]
    try {
      feeds.foreach { f =>
        tensors +=
          (f.values match {
            case v: Array[Float] =>
              TFloat32.tensorOf(Shape.of(f.shape: _*), DataBuffers.of(v, true, false))
            case v: Array[Int] =>
              TInt32.tensorOf(Shape.of(f.shape: _*), DataBuffers.of(v, true, false))
            case v: Array[Long] =>
              TInt64.tensorOf(Shape.of(f.shape: _*), DataBuffers.of(v, true, false))
            case v: Array[Double] =>
              TFloat64.tensorOf(Shape.of(f.shape: _*), DataBuffers.of(v, true, false))
            case _ => throw new GraphException(s"Feed '${f.tensor}': unsupported values ${f.dtype}")
          })
      }
      val runner = session.runner()
      feeds.zip(tensors).foreach { case (f, t) => runner.feed(FrozenGraph.tensorName(f.tensor), t) }
      outputs.foreach(o => runner.fetch(FrozenGraph.tensorName(o)))
      val result = try runner.run()
      catch {
        case e: Exception =>
          throw new GraphException(Feed.runFailure("TensorFlow", frozen, feeds, outputs, e), e)
      }
      Using.resource(result) { r =>
        outputs.indices.map { i =>
          r.get(i) match {
            case t: TFloat32 =>
              val out = new Array[Float](t.size().toInt)
              t.copyTo(DataBuffers.of(out, false, false))
              (t.shape().asArray(), out)
            case t =>
              throw new GraphException(
                s"Output '${outputs(i)}' of $frozen is " +
                  s"${t.dataType()}, only float32 outputs are supported")
          }
        }
      }
    } finally tensors.foreach(_.close())
  }

  override def close(): Unit = synchronized {
    if (!closed) {
      closed = true
      session.close()
      graph.close()
    }
  }
}

object GraphSession {

  /** Runs of this JVM that were caught in a loop while another run was stopped, and ran again. */
  private[sparkdl] val reruns = new java.util.concurrent.atomic.AtomicLong()
}
