package sparkdl.inference

import java.util.concurrent.atomic.AtomicLong

import scala.collection.mutable

/**
 * The JVM-wide cache of loaded models: one [[ModelSession]] per model hash, shared by every task
 * and thread of the JVM (driver or executor), whatever the engine. Bounded: beyond `capacity`
 * models or `maxBytes` of them, the least recently used model leaves the cache, and its session is
 * closed as soon as no caller is using it ([[withSession]] holds a lease for the duration of the
 * call), so eviction never pulls a session from under a running task. Every session is closed when
 * the JVM shuts down.
 *
 * Loading happens outside the cache's lock: a model being loaded (a large graph takes seconds)
 * delays only the callers that need that model, never the callers of models already loaded.
 */
object SessionCache {

  /** Models kept loaded at once; overridable with `-Dsparkdl.sessionCache.capacity=N`. */
  val capacity: Int = Integer.getInteger("sparkdl.sessionCache.capacity", 4)

  /**
   * Model bytes kept loaded at once (`-Dsparkdl.sessionCache.maxBytes=N`, default 1 GiB): a loaded
   * graph takes many times its size in memory (VGG19's constants peak at many GB resident on first
   * run), so two such graphs are not kept side by side. The model being loaded always stays,
   * whatever its size.
   */
  def maxBytes: Long = java.lang.Long.getLong("sparkdl.sessionCache.maxBytes", 1L << 30)

  /** A cache slot: the model's session once loaded, and how many callers hold it. */
  private final class Entry(val model: Model) {
    var leases = 0 // guarded by SessionCache
    var evicted = false // guarded by SessionCache
    private var session: ModelSession = _ // guarded by this entry
    private var failure: Throwable = _

    /** The session, loading it on first call; callers of the same model wait here, no one else. */
    def get(): ModelSession = synchronized {
      if (session == null && failure == null) {
        try {
          session = model.open()
          loads.incrementAndGet()
        } catch { case e: Throwable => failure = e }
      }
      if (failure != null) throw failure
      session
    }

    def close(): Unit = synchronized(if (session != null) session.close())
  }

  private val entries = new mutable.LinkedHashMap[String, Entry]()
  private val loads = new AtomicLong(0)

  sys.addShutdownHook(clear())

  /**
   * Runs `f` with the session for `model`, loading it on first use in this JVM. The session stays
   * open until `f` returns, even if other models push it out of the cache meanwhile.
   */
  def withSession[T](model: Model)(f: ModelSession => T): T = {
    val entry = acquire(model)
    try {
      val session =
        try entry.get()
        catch {
          case e: Throwable =>
            forget(entry) // a later call tries again
            throw e
        }
      f(session)
    } finally release(entry)
  }

  private def acquire(model: Model): Entry = synchronized {
    val entry = entries.remove(model.hash).getOrElse(new Entry(model))
    entries.put(model.hash, entry) // most recently used last
    entry.leases += 1
    def bytes = entries.valuesIterator.map(_.model.sizeInBytes).sum
    while (entries.size > capacity || (entries.size > 1 && bytes > maxBytes)) {
      val (oldest, evicted) = entries.head
      entries.remove(oldest)
      evicted.evicted = true
      if (evicted.leases == 0) evicted.close()
    }
    entry
  }

  private def forget(entry: Entry): Unit = synchronized {
    if (entries.get(entry.model.hash).contains(entry)) entries.remove(entry.model.hash)
    entry.evicted = true
  }

  private def release(entry: Entry): Unit = synchronized {
    entry.leases -= 1
    if (entry.evicted && entry.leases == 0) entry.close()
  }

  /** How many models this JVM has loaded since it started (for tests and benchmarks). */
  def loadCount: Long = loads.get()

  /** Hashes of the models in the cache now. */
  def loaded: Seq[String] = synchronized(entries.keys.toSeq)

  /** Forgets every session, closing each as soon as no caller is using it. */
  def clear(): Unit = synchronized {
    entries.values.foreach { e =>
      e.evicted = true
      if (e.leases == 0) e.close()
    }
    entries.clear()
  }
}
