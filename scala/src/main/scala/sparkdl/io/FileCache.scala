package sparkdl.io

import java.lang.ref.SoftReference
import java.util.concurrent.ConcurrentHashMap

/**
 * What a JVM has read from files (model exports, graph files), kept while the file is unchanged
 * (`stamp`: its size and modification time) and while memory allows: values are held softly,
 * so a driver that has used several large models drops the older ones before it runs out of
 * heap, and reads them again if they are needed again.
 */
private[sparkdl] final class FileCache[V <: AnyRef] {

  private val entries = new ConcurrentHashMap[String, (String, SoftReference[V])]()

  def getOrLoad(key: String, stamp: String)(load: => V): V =
    Option(entries.get(key)).filter(_._1 == stamp).flatMap(e => Option(e._2.get())).getOrElse {
      val value = load
      entries.put(key, (stamp, new SoftReference(value)))
      value
    }
}
