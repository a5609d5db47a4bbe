package sparkdl.tf

import java.util.concurrent.atomic.AtomicLong

import scala.collection.mutable

import org.tensorflow.proto.ConfigProto

/**
 * The JVM-wide cache of loaded graphs: one [[GraphSession]] per graph hash, shared
 * by every task and thread of the JVM (driver or executor). Bounded: beyond `capacity`
 * graphs or `maxBytes` of them, the least recently used graph leaves the cache, and its
 * session is closed as soon as no caller is using it ([[withSession]] holds a lease for
 * the duration of the call), so eviction never pulls a session from under a running
 * task. Every session is closed when the JVM shuts down.
 */
object SessionCache {

  /** Graphs kept loaded at once; overridable with `-Dsparkdl.sessionCache.capacity=N`. */
  val capacity: Int = Integer.getInteger("sparkdl.sessionCache.capacity", 4)

  /**
   * GraphDef bytes kept loaded at once (`-Dsparkdl.sessionCache.maxBytes=N`, default 1 GiB):
   * a loaded graph takes many times its size in memory (VGG19's 550 MB of constants peak at
   * ~14 GB resident on first run), so two such graphs are not kept side by side. The graph
   * being loaded always stays, whatever its size.
   */
  def maxBytes: Long = java.lang.Long.getLong("sparkdl.sessionCache.maxBytes", 1L << 30)

  /** A cached session and how many callers are inside [[withSession]] with it. */
  private final class Entry(val session: GraphSession) {
    var leases = 0
    var evicted = false
  }

  private val sessions = new mutable.LinkedHashMap[String, Entry]()
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

  /**
   * Runs `f` with the session for `graph`, loading it on first use in this JVM. The session
   * stays open until `f` returns, even if other graphs push it out of the cache meanwhile.
   */
  def withSession[T](graph: FrozenGraph)(f: GraphSession => T): T = {
    val entry = acquire(graph)
    try f(entry.session) finally release(entry)
  }

  private def acquire(graph: FrozenGraph): Entry = synchronized {
    val entry = sessions.remove(graph.hash) match {
      case Some(e) => e
      case None =>
        val e = new Entry(new GraphSession(graph, sessionConfig))
        loads.incrementAndGet()
        e
    }
    sessions.put(graph.hash, entry) // most recently used last
    entry.leases += 1
    def bytes = sessions.valuesIterator.map(_.session.frozen.graphDef.length.toLong).sum
    while (sessions.size > capacity || (sessions.size > 1 && bytes > maxBytes)) {
      val (oldest, evicted) = sessions.head
      sessions.remove(oldest)
      evicted.evicted = true
      if (evicted.leases == 0) evicted.session.close()
    }
    entry
  }

  private def release(entry: Entry): Unit = synchronized {
    entry.leases -= 1
    if (entry.evicted && entry.leases == 0) entry.session.close()
  }

  /** How many graphs this JVM has loaded since it started (for tests and benchmarks). */
  def loadCount: Long = loads.get()

  /** Hashes of the graphs loaded now. */
  def loaded: Seq[String] = synchronized(sessions.keys.toSeq)

  /** Forgets every session, closing each as soon as no caller is using it. */
  def clear(): Unit = synchronized {
    sessions.values.foreach { e =>
      e.evicted = true
      if (e.leases == 0) e.session.close()
    }
    sessions.clear()
  }
}
