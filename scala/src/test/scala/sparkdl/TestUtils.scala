package sparkdl

import scala.util.Using

import com.google.protobuf.ByteString
import org.apache.spark.sql.SparkSession
import org.scalatest.{BeforeAndAfterAll, Suite}
import org.tensorflow.{Graph, Output}
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.op.core.{Placeholder, ReduceSum}
import org.tensorflow.proto.{AttrValue, DataType, GraphDef, NodeDef, TensorProto, TensorShapeProto}
import org.tensorflow.types.{TFloat32, TInt32}

import sparkdl.tf.FrozenGraph

// The helpers every Scala suite shares, in one place.

/** One local[2] SparkSession per suite. */
trait SparkSessionFixture extends BeforeAndAfterAll { self: Suite =>
  @transient lazy val spark: SparkSession = SparkSession.builder()
    .master("local[2]")
    .appName(getClass.getSimpleName)
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "2")
    .getOrCreate()

  override def afterAll(): Unit = {
    try spark.stop()
    finally super.afterAll()
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

/** Small graphs built with TensorFlow Java ops, with outputs easy to compute by hand. */
object TestGraphs {

  /** output = input * `scale` + 1, input float [batch, n]. */
  def affine(n: Int, scale: Float = 2f): FrozenGraph = build { tf =>
    val x = tf.withName("input").placeholder(classOf[TFloat32], Placeholder.shape(Shape.of(-1, n)))
    tf.withName("output").math.add(tf.math.mul(x, tf.constant(scale)), tf.constant(1f))
  }

  /**
   * output = input + n (input float [batch, 3]), n counted by a loop (TensorFlow 1 frames, as
   * `Graph.whileLoop` builds them) from 0 while n < limit (float []): +Inf never ends.
   */
  def counting: FrozenGraph = Using.resource(new Graph()) { g =>
    val tf = Ops.create(g)
    val x = tf.withName("input").placeholder(classOf[TFloat32], Placeholder.shape(Shape.of(-1, 3)))
    val limit =
      tf.withName("limit").placeholder(classOf[TFloat32], Placeholder.shape(Shape.scalar()))
    def float(o: Output[_]) = o.asInstanceOf[Output[TFloat32]]
    val counted = g.whileLoop(Array[Output[_]](tf.constant(0f).asOutput(), limit.asOutput()),
      (cg, in, out) => out(0) = Ops.create(cg).math.less(float(in(0)), float(in(1))).asOutput(),
      (bg, in, out) => {
        out(0) = Ops.create(bg).math.add(float(in(0)), Ops.create(bg).constant(1f)).asOutput()
        out(1) = in(1)
      },
      "count")
    tf.withName("output").math.add(x, float(counted(0)))
    FrozenGraph(g.toGraphDef.toByteArray, Seq("input:0", "limit:0"), Seq("output:0"))
  }

  /**
   * Per-channel mean and max over an image batch [batch, h, w, c]: output = concat(mean over (h,
   * w), max over (h, w)) -> [batch, 2c].
   */
  def channelStats(h: Int, w: Int, c: Int): FrozenGraph = build { tf =>
    val x =
      tf.withName("image").placeholder(classOf[TFloat32], Placeholder.shape(Shape.of(-1, h, w, c)))
    val axes = tf.constant(Array(1, 2))
    val parts = java.util.Arrays.asList[org.tensorflow.Operand[TFloat32]](
      tf.math.mean(x, axes), tf.max(x, axes))
    tf.withName("stats").concat(parts, tf.constant(1))
  }

  /**
   * output = input + 1 (float [batch, 1]) in a graph that also holds an unused float constant of
   * `bytes` bytes: as large to load as a big model, written straight as a GraphDef.
   */
  def large(bytes: Int): FrozenGraph = {
    def attr(f: AttrValue.Builder => AttrValue.Builder) = f(AttrValue.newBuilder()).build()
    val float = attr(_.setType(DataType.DT_FLOAT))
    val weights = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
      .setTensorShape(
        TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(bytes / 4)))
      .setTensorContent(ByteString.copyFrom(new Array[Byte](bytes / 4 * 4))).build()
    val one = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).addFloatVal(1f).build()
    val shape = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(-1))
      .addDim(TensorShapeProto.Dim.newBuilder().setSize(1))
    val nodes = Seq(
      NodeDef.newBuilder().setName("input").setOp("Placeholder").putAttr("dtype", float)
        .putAttr("shape", attr(_.setShape(shape))),
      NodeDef.newBuilder().setName("weights").setOp("Const").putAttr("dtype", float)
        .putAttr("value", attr(_.setTensor(weights))),
      NodeDef.newBuilder().setName("one").setOp("Const").putAttr("dtype", float).putAttr(
        "value", attr(_.setTensor(one))),
      NodeDef.newBuilder().setName("output").setOp("AddV2").addInput("input").addInput("one")
        .putAttr("T", float))
    val graphDef = nodes.foldLeft(GraphDef.newBuilder())((g, n) => g.addNode(n)).build().toByteArray
    FrozenGraph(graphDef, Seq("input:0"), Seq("output:0"))
  }

  /**
   * A text model's shape: `input_ids` and `attention_mask` (int32 [batch, seq]) to `embedding`
   * = [tokens, sum of token ids] per row (float [batch, 2]), padding excluded.
   */
  def tokenCounts: FrozenGraph = build(
    { tf =>
      val shape = Placeholder.shape(Shape.of(-1, -1))
      val ids = tf.withName("input_ids").placeholder(classOf[TInt32], shape)
      val mask = tf.withName("attention_mask").placeholder(classOf[TInt32], shape)
      def rowSum(x: org.tensorflow.Operand[TInt32]) =
        tf.dtypes.cast(tf.reduceSum(x, tf.constant(1), ReduceSum.keepDims(true)), classOf[TFloat32])
      val parts =
        java.util.Arrays.asList[org.tensorflow.Operand[TFloat32]](
          rowSum(mask), rowSum(tf.math.mul(ids, mask)))
      tf.withName("embedding").concat(parts, tf.constant(1))
    },
    Seq("input_ids:0", "attention_mask:0"), Seq("embedding:0"))

  private def build(body: Ops => Any, inputs: Seq[String] = Nil, outputs: Seq[String] = Nil)
      : FrozenGraph =
    Using.resource(new Graph()) { g =>
      val tf = Ops.create(g)
      body(tf)
      val names = scala.jdk.CollectionConverters.IteratorHasAsScala(g.operations()).asScala
        .map(_.name()).toSeq
      def first(candidates: String*) = Seq(s"${names.find(candidates.contains).get}:0")
      FrozenGraph(
        g.toGraphDef.toByteArray, if (inputs.nonEmpty) inputs else first("input", "image"),
        if (outputs.nonEmpty) outputs else first("output", "stats"))
    }
}
