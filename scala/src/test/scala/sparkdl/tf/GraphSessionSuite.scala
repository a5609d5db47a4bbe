package sparkdl.tf

import org.scalatest.funsuite.AnyFunSuite

import sparkdl.{Rss, TestGraphs}
import sparkdl.inference.SessionCache

class GraphSessionSuite extends AnyFunSuite {

  test("runs a graph built with TensorFlow Java ops") {
    val g = TestGraphs.affine(3)
    val data = Array(0f, 1f, 2f, -1f, 0.5f, 10f)
    val Seq((shape, out)) =
      SessionCache.withSession(g)(_.run("input:0", Array(2L, 3L), data, Seq("output:0")))
    assert(shape.toSeq == Seq(2L, 3L))
    assert(out.toSeq == data.map(_ * 2 + 1).toSeq)
  }

  test("one session per graph per JVM, keyed by content") {
    val a = TestGraphs.affine(5)
    val b = FrozenGraph(a.graphDef.clone(), a.inputs, a.outputs)
    assert(a.hash == b.hash)
    val before = SessionCache.loadCount
    val s1 = SessionCache.withSession(a)(identity)
    val s2 = SessionCache.withSession(b)(identity)
    assert(s1 eq s2)
    assert(SessionCache.loadCount - before <= 1)
  }

  test("describes inputs and rejects unknown tensors with the graph's placeholders") {
    SessionCache.withSession(TestGraphs.channelStats(4, 4, 3)) { s =>
      assert(s.inputInfo("image").shape.contains(Seq(-1L, 4L, 4L, 3L)))
      val e = intercept[GraphException](s.inputInfo("images:0"))
      assert(e.getMessage.contains("'images:0'"))
      assert(e.getMessage.contains("image:0 float [?,4,4,3]"))
      val o = intercept[GraphException](s.outputInfo("nope:0"))
      assert(o.getMessage.contains("'nope:0'") && o.getMessage.contains("stats:0"))
    }
  }

  test("a batch whose size disagrees with its shape fails before TensorFlow runs") {
    val e = intercept[IllegalArgumentException](
      SessionCache.withSession(TestGraphs.affine(3))(_.run("input:0",
          Array(2L, 3L), new Array[Float](5), Seq("output:0"))))
    assert(e.getMessage.contains("5 float values") && e.getMessage.contains("[2,3]"))
  }

  // The test JVM pre-touches a 2 GiB heap (build.sbt), so Java garbage does not move
  // the resident size; an unclosed input or output tensor would add 512 KiB a batch.
  test("no native memory leak across 1,000 batches") {
    val n = 64 * 1024 // 256 KiB of floats per batch in, as much out: a leak would be 500 MiB
    val g = TestGraphs.affine(n)
    val data = Array.tabulate(n)(_.toFloat)
    def batch(): Unit = {
      val Seq((_, out)) =
        SessionCache.withSession(g)(_.run("input:0", Array(1L, n.toLong), data, Seq("output:0")))
      assert(out(7) == 15f)
    }
    (1 to 100).foreach(_ => batch())
    System.gc()
    val before = Rss.kib()
    (1 to 1000).foreach(_ => batch())
    System.gc()
    val grownMiB = (Rss.kib() - before) / 1024.0
    info(f"resident memory grew by $grownMiB%.1f MiB over 1,000 batches of 2 x 256 KiB")
    assert(grownMiB < 64, f"resident memory grew by $grownMiB%.1f MiB over 1,000 batches")
  }

  test("a session pushed out of the cache stays open until its caller is done, then closes") {
    val held = TestGraphs.affine(2)
    val data = Array(1f, 2f)
    val session = SessionCache.withSession(held) { s =>
      // Load more graphs than the cache keeps while `held` is in use: it is evicted...
      (1 to SessionCache.capacity + 1).foreach(i =>
        SessionCache.withSession(TestGraphs.affine(100 + i))(identity))
      assert(!SessionCache.loaded.contains(held.hash))
      // ...but the caller still holding it can run it.
      assert(!s.isClosed)
      assert(s.run("input:0", Array(1L, 2L), data, Seq("output:0")).head._2.toSeq == Seq(3f, 5f))
      s
    }
    assert(session.isClosed, "an evicted session must close once its last caller returns")
    // An evicted graph used again is simply loaded again.
    val again = SessionCache.withSession(held) { s =>
      assert(!s.isClosed && (s ne session))
      s.run("input:0", Array(1L, 2L), data, Seq("output:0")).head._2.toSeq
    }
    assert(again == Seq(3f, 5f))
    // Without a caller, eviction closes at once.
    val idle = SessionCache.withSession(TestGraphs.affine(3))(identity)
    (1 to SessionCache.capacity).foreach(i =>
      SessionCache.withSession(TestGraphs.affine(200 + i))(identity))
    assert(idle.isClosed)
  }

  test("graphs beyond sparkdl.sessionCache.maxBytes leave the cache, least recently used first") {
    val a = TestGraphs.affine(301)
    val b = TestGraphs.affine(302)
    def withMaxBytes[T](n: Long)(f: => T): T = {
      System.setProperty("sparkdl.sessionCache.maxBytes", n.toString)
      try f
      finally System.clearProperty("sparkdl.sessionCache.maxBytes")
    }
    withMaxBytes(a.graphDef.length + b.graphDef.length - 1) { // room for one of them only
      val sa = SessionCache.withSession(a)(identity)
      val sb = SessionCache.withSession(b)(identity)
      assert(sa.isClosed && !sb.isClosed)
      assert(SessionCache.loaded.contains(b.hash) && !SessionCache.loaded.contains(a.hash))
    }
    withMaxBytes(1) { // a graph larger than the budget on its own still loads and runs
      val out = SessionCache.withSession(a)(_.run("input:0", Array(1L, 301L), new Array[Float](301),
          Seq("output:0")))
      assert(out.head._2.forall(_ == 1f))
      assert(SessionCache.loaded == Seq(a.hash))
    }
  }

  test(
    "thread settings: intra-op from sparkdl.tf.threads " +
      "else one per task, inter-op one per core unless set") {
    def withProps(props: (String, String)*)(check: => Unit): Unit = {
      props.foreach { case (k, v) => System.setProperty(k, v) }
      try check
      finally props.foreach { case (k, _) => System.clearProperty(k) }
    }
    withProps("sparkdl.tf.threads" -> "3") {
      assert(TFConfig.sessionConfig.getIntraOpParallelismThreads == 3)
    }
    withProps("sparkdl.tf.threads" -> "4", "sparkdl.tf.interOpThreads" -> "1") {
      assert(TFConfig.sessionConfig.getIntraOpParallelismThreads == 4)
      assert(TFConfig.sessionConfig.getInterOpParallelismThreads == 1)
    }
    if (org.apache.spark.SparkEnv.get == null) {
      val cores = Runtime.getRuntime.availableProcessors()
      assert(TFConfig.sessionConfig.getIntraOpParallelismThreads == 1) // spark.task.cpus' default
      assert(TFConfig.sessionConfig.getInterOpParallelismThreads == cores)
    }
  }

  test(
    "loading a 500 MB graph in one thread does not hold up callers of a loaded graph in another") {
    val small = TestGraphs.affine(2)
    def runSmall(): Unit =
      assert(SessionCache.withSession(small)(_.run("input:0", Array(1L, 2L), Array(1f, 2f),
          Seq("output:0"))).head._2
        .toSeq == Seq(3f, 5f))
    runSmall() // loaded, and its kernels warm
    val big = TestGraphs.large(500 * 1000 * 1000)
    @volatile var loadSeconds = 0.0
    val loader = new Thread(() => {
      val start = System.nanoTime()
      val out =
        SessionCache.withSession(big)(_.run("input:0", Array(1L, 1L), Array(41f), Seq("output:0")))
      assert(out.head._2.toSeq == Seq(42f))
      loadSeconds = (System.nanoTime() - start) / 1e9
    })
    loader.start()
    Thread.sleep(100) // the load is under way
    val waits = scala.collection.mutable.ArrayBuffer.empty[Double]
    while (loader.isAlive) {
      val start = System.nanoTime()
      runSmall()
      waits += (System.nanoTime() - start) / 1e6
      Thread.sleep(20)
    }
    loader.join()
    info(
      f"500 MB graph loaded and run in $loadSeconds%.1f s; meanwhile " +
        f"${waits.size} calls of a loaded graph, the slowest ${waits.max}%.1f ms")
    assert(loadSeconds > 0.5, "the large graph loaded too fast to show anything")
    assert(
      waits.size >= 5, s"only ${waits.size} calls of the loaded graph completed during the load")
    assert(waits.max < 2000,
      f"a call of a loaded graph waited ${waits.max}%.1f ms during another graph's load")
    SessionCache.clear() // the 500 MB graph leaves this JVM
  }
}
