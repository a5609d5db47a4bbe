package sparkdl.ml

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.param.{Param, Params}
import org.apache.spark.ml.util.{MLReader, MLWriter}

import sparkdl.tf.FrozenGraph

/** A stage that carries a frozen graph (saved beside its metadata as `graph.pb`). */
trait HasFrozenGraph extends Params {

  final val graph: Param[FrozenGraph] = new Param[FrozenGraph](this, "graph",
    "frozen TensorFlow graph (GraphDef bytes with its input and output tensor names); no default") {
    override def jsonEncode(value: FrozenGraph): String =
      throw new UnsupportedOperationException("graph is persisted as a separate file, not as JSON")
  }

  def getGraph: FrozenGraph = $(graph)

  def setGraph(value: FrozenGraph): this.type = set(graph, value)

  /** py4j-friendly: the GraphDef bytes and its tensor names. */
  def setGraph(graphDef: Array[Byte], inputs: java.util.List[String], outputs: java.util.List[String]): this.type =
    set(graph, FrozenGraph(graphDef, inputs.asScala.toSeq, outputs.asScala.toSeq))
}

/** Writes a [[HasFrozenGraph]] stage: params as Spark ML metadata, the graph as `graph.pb`. */
private[ml] class GraphStageWriter(stage: HasFrozenGraph) extends MLWriter {
  override protected def saveImpl(path: String): Unit =
    GraphPersistence.save(stage, stage.getGraph, path, sparkSession)
}

/** Reads what [[GraphStageWriter]] wrote into a new stage made by `make(uid)`. */
private[ml] class GraphStageReader[T <: HasFrozenGraph](className: String, make: String => T) extends MLReader[T] {
  override def load(path: String): T = {
    val (stage, graph) = GraphPersistence.load(path, sparkSession, className, make)
    stage.setGraph(graph)
  }
}
