package sparkdl.tf

import org.scalatest.funsuite.AnyFunSuite

import sparkdl.TestGraphs

class GraphSessionSuite extends AnyFunSuite {

  test("runs a graph built with TensorFlow Java ops") {
    val g = TestGraphs.affine(3)
    val s = SessionCache.get(g)
    val data = Array(0f, 1f, 2f, -1f, 0.5f, 10f)
    val Seq((shape, out)) = s.run("input:0", Array(2L, 3L), data, Seq("output:0"))
    assert(shape.toSeq == Seq(2L, 3L))
    assert(out.toSeq == data.map(_ * 2 + 1).toSeq)
  }

  test("one session per graph per JVM, keyed by content") {
    val a = TestGraphs.affine(5)
    val b = FrozenGraph(a.graphDef.clone(), a.inputs, a.outputs)
    assert(a.hash == b.hash)
    val before = SessionCache.loadCount
    val s1 = SessionCache.get(a)
    val s2 = SessionCache.get(b)
    assert(s1 eq s2)
    assert(SessionCache.loadCount - before <= 1)
  }

  test("describes inputs and rejects unknown tensors with the graph's placeholders") {
    val s = SessionCache.get(TestGraphs.channelStats(4, 4, 3))
    assert(s.inputInfo("image").shape.contains(Seq(-1L, 4L, 4L, 3L)))
    val e = intercept[GraphException](s.inputInfo("images:0"))
    assert(e.getMessage.contains("'images:0'"))
    assert(e.getMessage.contains("image:0 float [?,4,4,3]"))
    val o = intercept[GraphException](s.outputInfo("nope:0"))
    assert(o.getMessage.contains("'nope:0'") && o.getMessage.contains("stats:0"))
  }

  test("a batch whose size disagrees with its shape fails before TensorFlow runs") {
    val s = SessionCache.get(TestGraphs.affine(3))
    val e = intercept[IllegalArgumentException](s.run("input:0", Array(2L, 3L), new Array[Float](5), Seq("output:0")))
    assert(e.getMessage.contains("5 floats") && e.getMessage.contains("[2,3]"))
  }

  // The test JVM pre-touches a 2 GiB heap (build.sbt), so Java garbage does not move
  // the resident size; an unclosed input or output tensor would add 512 KiB a batch.
  test("no native memory leak across 1,000 batches") {
    val n = 64 * 1024 // 256 KiB of floats per batch in, as much out: a leak would be 500 MiB
    val s = SessionCache.get(TestGraphs.affine(n))
    val data = Array.tabulate(n)(_.toFloat)
    def batch(): Unit = {
      val Seq((_, out)) = s.run("input:0", Array(1L, n.toLong), data, Seq("output:0"))
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

  test("thread settings: intra-op from sparkdl.tf.threads, inter-op follows it unless set") {
    def withProps(props: (String, String)*)(check: => Unit): Unit = {
      props.foreach { case (k, v) => System.setProperty(k, v) }
      try check finally props.foreach { case (k, _) => System.clearProperty(k) }
    }
    withProps("sparkdl.tf.threads" -> "3") {
      assert(SessionCache.sessionConfig.getIntraOpParallelismThreads == 3)
      assert(SessionCache.sessionConfig.getInterOpParallelismThreads == 3)
    }
    withProps("sparkdl.tf.threads" -> "4", "sparkdl.tf.interOpThreads" -> "1") {
      assert(SessionCache.sessionConfig.getIntraOpParallelismThreads == 4)
      assert(SessionCache.sessionConfig.getInterOpParallelismThreads == 1)
    }
    if (org.apache.spark.SparkEnv.get == null) {
      val cores = Runtime.getRuntime.availableProcessors()
      assert(SessionCache.sessionConfig.getIntraOpParallelismThreads == cores)
      assert(SessionCache.sessionConfig.getInterOpParallelismThreads == cores)
    }
  }
}

object Rss {
  /** Resident set size of this process in KiB (Linux). */
  def kib(): Long = {
    val src = scala.io.Source.fromFile("/proc/self/status")
    try src.getLines().find(_.startsWith("VmRSS:")).map(_.split("\\s+")(1).toLong).getOrElse(0L)
    finally src.close()
  }
}
