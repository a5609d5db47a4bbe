package sparkdl.tf

import java.util.concurrent.atomic.AtomicLong

import scala.collection.mutable

import org.tensorflow.proto.ConfigProto

/**
 * The JVM-wide cache of loaded graphs: one [[GraphSession]] per graph hash, shared
 * by every task and thread of the JVM (driver or executor). Bounded: the least
 * recently used session is closed when more than `capacity` graphs are live, and
 * every session is closed when the JVM shuts down.
 */
object SessionCache {

  /** Graphs kept loaded at once; overridable with `-Dsparkdl.sessionCache.capacity=N`. */
  val capacity: Int = Integer.getInteger("sparkdl.sessionCache.capacity", 4)

  private val sessions = new mutable.LinkedHashMap[String, GraphSession]()
  private val loads = new AtomicLong(0)

  sys.addShutdownHook(clear())

  private def setting(sparkKey: String): Option[String] =
    Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption(sparkKey))
      .orElse(Option(System.getProperty(sparkKey.stripPrefix("spark."))))

  /**
   * TensorFlow intra-op threads (the threads one op may split its work over): the Spark conf
   * `spark.sparkdl.tf.threads` (or the JVM property `sparkdl.tf.threads`), else the executor's
   * own core count (`spark.executor.cores`), else the cores the JVM sees.
   */
  def defaultThreads: Int =
    setting("spark.sparkdl.tf.threads")
      .orElse(Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption("spark.executor.cores")))
      .map(_.toInt)
      .getOrElse(Runtime.getRuntime.availableProcessors())
      .max(1)

  /**
   * TensorFlow inter-op threads (the threads that run ops, and so concurrent `Session.run`
   * calls, side by side): `spark.sparkdl.tf.interOpThreads` (or `sparkdl.tf.interOpThreads`),
   * else [[defaultThreads]]. With a single one, the runs of two tasks queue behind each other:
   * on 2 cores, EfficientNet-Lite0 from two tasks at once ran at 133 img/s with 1 and 144 with 2.
   */
  def interOpThreads: Int = setting("spark.sparkdl.tf.interOpThreads").map(_.toInt).getOrElse(defaultThreads).max(1)

  /**
   * The one session configuration of this JVM. TensorFlow sizes its process-wide CPU thread
   * pools from the first session created, so every sparkdl session (models and the image
   * decoder alike) is created with this.
   */
  def sessionConfig: ConfigProto = ConfigProto.newBuilder()
    .setIntraOpParallelismThreads(defaultThreads)
    .setInterOpParallelismThreads(interOpThreads)
    .build()

  /** The session for `graph`, loading it on first use in this JVM. */
  def get(graph: FrozenGraph): GraphSession = synchronized {
    sessions.remove(graph.hash) match {
      case Some(s) =>
        sessions.put(graph.hash, s) // move to most-recent
        s
      case None =>
        val s = new GraphSession(graph, sessionConfig)
        loads.incrementAndGet()
        sessions.put(graph.hash, s)
        while (sessions.size > capacity) {
          val (oldest, evicted) = sessions.head
          sessions.remove(oldest)
          evicted.close()
        }
        s
    }
  }

  /** How many graphs this JVM has loaded since it started (for tests and benchmarks). */
  def loadCount: Long = loads.get()

  /** Hashes of the graphs loaded now. */
  def loaded: Seq[String] = synchronized(sessions.keys.toSeq)

  /** Closes and forgets every session. */
  def clear(): Unit = synchronized {
    sessions.values.foreach(_.close())
    sessions.clear()
  }
}
