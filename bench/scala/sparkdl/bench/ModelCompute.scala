package sparkdl.bench

import java.nio.file.{Files, Paths}

import sparkdl.inference.{Model, SessionCache}
import sparkdl.onnx.OnnxModel
import sparkdl.tf.FrozenGraph

/**
 * The JVM's compute limit for `make bench`: runs a frozen graph through TF Java (or a `.onnx` file
 * through ONNX Runtime) on a constant batch (no decoding, no Spark) from `callers` threads at once,
 * as executor tasks share one session. Returns images/s over `batches` batches per caller.
 */
object ModelCompute {
  def imagesPerSecond(graphFile: String, input: String, output: String,
                      height: Int, width: Int, batch: Int, batches: Int, callers: Int): Double = {
    val bytes = Files.readAllBytes(Paths.get(graphFile))
    val graph: Model =
      if (OnnxModel.looksLikeOnnx(bytes)) new OnnxModel(bytes, Seq(input), Seq(output), graphFile)
      else FrozenGraph(bytes, Seq(input), Seq(output))
    SessionCache.withSession(graph) { session =>
      val data = Array.tabulate(batch * height * width * 3)(i => (i % 251).toFloat)
      val shape = Array[Long](batch, height, width, 3)
      session.run(input, shape, data, Seq(output)) // warm-up: first run compiles kernels
      val start = System.nanoTime()
      val threads = (0 until callers).map { _ =>
        val t = new Thread(() =>
          (0 until batches).foreach(_ => session.run(input, shape, data, Seq(output))))
        t.start()
        t
      }
      threads.foreach(_.join())
      callers.toLong * batches * batch / ((System.nanoTime() - start) / 1e9)
    }
  }
}
