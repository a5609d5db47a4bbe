package sparkdl.tf

import scala.jdk.CollectionConverters._

import org.scalatest.funsuite.AnyFunSuite
import org.tensorflow.proto.GraphDef

import sparkdl.TestGraphs
import sparkdl.inference.{Feed, ModelRunStoppedException, RunWatch, SessionCache}

class LoopGuardSuite extends AnyFunSuite {

  private val counting = TestGraphs.counting

  /** `counting` on x = [1, 2, 3] with `limit`, stopped after `timeoutMs` (0: never): its output. */
  private def count(limit: Float, timeoutMs: Long = 0): Seq[Float] = {
    val feeds = Seq(Feed("input:0", Array(1L, 3L), Array(1f, 2f, 3f)),
      Feed("limit:0", Array.empty[Long], Array(limit)))
    RunWatch(
      "The run", timeoutMs)(control =>
      SessionCache.withSession(counting)(_.run(feeds, Seq("output:0"), control)))
      .head._2.toSeq
  }

  test("a graph without loops is loaded as it is") {
    val parsed = GraphDef.parseFrom(TestGraphs.affine(3).graphDef)
    assert(!LoopGuard.hasLoops(parsed))
    assert(LoopGuard.guard(parsed) eq parsed)
  }

  test("each LoopCond waits for a check of the session's flag") {
    val parsed = GraphDef.parseFrom(counting.graphDef)
    val guarded = LoopGuard.guard(parsed).getNodeList.asScala
    val Seq(loop) = guarded.filter(_.getOp == "LoopCond").toSeq
    val Seq(check) = guarded.filter(_.getOp == "Assert").toSeq
    assert(loop.getInputList.asScala.contains("^" + check.getName))
    // the check's handle and the one the flag is set by
    assert(guarded.count(n => n.getOp == "VarHandleOp") == 2)
    assert(guarded.exists(_.getName == LoopGuard.SetTarget))
    // in the loop's frame: four small nodes per iteration, each after the loop's condition
    val inFrame =
      guarded.filter(_.getInputList.asScala.contains("^" + loop.getInput(0).split(':').head))
    assert(inFrame.map(_.getOp).sorted == Seq("Const", "VarHandleOp"))
    val added = guarded.drop(parsed.getNodeCount).filterNot(n =>
      n.getName.startsWith(LoopGuard.FlagName + "/set") ||
        n.getName == LoopGuard.FlagName || n.getName == LoopGuard.ValueName)
    assert(added.map(_.getOp).sorted == Seq("Assert", "Const", "ReadVariableOp", "VarHandleOp"))
  }

  test("a finite loop gives its answer; an endless one is stopped, and the session runs on") {
    assert(count(5f) == Seq(6f, 7f, 8f))
    val start = System.nanoTime()
    val e = intercept[ModelRunStoppedException](count(Float.PositiveInfinity, timeoutMs = 500))
    assert(e.getMessage == "The run was stopped: it ran longer than spark.sparkdl.runTimeout=500ms")
    assert(e.getCause.getMessage.contains(LoopGuard.StoppedMarker))
    assert((System.nanoTime() - start) / 1e9 < 10)
    assert(count(5f) == Seq(6f, 7f, 8f))
  }

  test("a run caught in its loop while another run is stopped runs again, its answer exact") {
    val before = GraphSession.reruns.get()
    @volatile var long: Seq[Float] = Nil
    val thread = new Thread(() => long = count(2e6f)) // seconds of iterations
    thread.start()
    Thread.sleep(1000) // in its loop
    // as a stopped run does: the session's loops stop
    // until the stopped run has returned (here, 0.5 s)
    val session = SessionCache.withSession(counting)(_.asInstanceOf[GraphSession])
    session.stopLoops()
    try Thread.sleep(500)
    finally session.releaseLoops()
    thread.join(120000)
    assert(long == Seq(2e6f + 1, 2e6f + 2, 2e6f + 3))
    assert(GraphSession.reruns.get() == before + 1)
  }
}
