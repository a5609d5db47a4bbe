package sparkdl

import scala.util.Using

import org.tensorflow.Graph
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.op.core.Placeholder
import org.tensorflow.types.TFloat32

import sparkdl.tf.FrozenGraph

/** Small graphs built with TensorFlow Java ops, with outputs easy to compute by hand. */
object TestGraphs {

  /** output = input * 2 + 1, input float [batch, n]. */
  def affine(n: Int): FrozenGraph = build { tf =>
    val x = tf.withName("input").placeholder(classOf[TFloat32], Placeholder.shape(Shape.of(-1, n)))
    tf.withName("output").math.add(tf.math.mul(x, tf.constant(2f)), tf.constant(1f))
  }

  /**
   * Per-channel mean and max over an image batch [batch, h, w, c]:
   * output = concat(mean over (h, w), max over (h, w)) -> [batch, 2c].
   */
  def channelStats(h: Int, w: Int, c: Int): FrozenGraph = build { tf =>
    val x = tf.withName("image").placeholder(classOf[TFloat32], Placeholder.shape(Shape.of(-1, h, w, c)))
    val axes = tf.constant(Array(1, 2))
    val parts = java.util.Arrays.asList[org.tensorflow.Operand[TFloat32]](tf.math.mean(x, axes), tf.max(x, axes))
    tf.withName("stats").concat(parts, tf.constant(1))
  }

  private def build(body: Ops => Any): FrozenGraph = Using.resource(new Graph()) { g =>
    val tf = Ops.create(g)
    body(tf)
    val names = scala.jdk.CollectionConverters.IteratorHasAsScala(g.operations()).asScala.map(_.name()).toSeq
    val in = names.find(n => n == "input" || n == "image").get
    val out = names.find(n => n == "output" || n == "stats").get
    FrozenGraph(g.toGraphDef.toByteArray, Seq(s"$in:0"), Seq(s"$out:0"))
  }
}
