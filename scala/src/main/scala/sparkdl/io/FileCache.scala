package sparkdl.io

import java.lang.ref.SoftReference
import java.util.concurrent.ConcurrentHashMap

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileSystem, Path}
import org.apache.spark.sql.SparkSession

/**
 * What a JVM has read from files (model exports, graph files), kept while the file is unchanged
 * (`stamp`: its size and modification time) and while memory allows: values are held softly, so a
 * driver that has used several large models drops the older ones before it runs out of heap, and
 * reads them again if they are needed again.
 */
private[sparkdl] final class FileCache[V <: AnyRef] {

  private val entries = new ConcurrentHashMap[String, (String, SoftReference[V])]()

  def getOrLoad(key: String, stamp: String)(load: => V): V =
    Option(entries.get(key)).filter(_._1 == stamp).flatMap(e => Option(e._2.get())).getOrElse {
      val value = load
      entries.put(key, (stamp, new SoftReference(value)))
      value
    }

  /**
   * What `read` makes of the file named by `pathOrArtifact` (a Spark Connect artifact name of this
   * session, or a path on any Hadoop file system), read again only when the file changed; an error
   * naming `param` and where it was looked for when it is not a file.
   */
  def getOrLoadFile(param: String, pathOrArtifact: String)(
      read: (FileSystem, Path, Configuration) => V): V = {
    val spark = SparkSession.active
    val conf = spark.sparkContext.hadoopConfiguration
    val path = ConnectArtifacts.file(pathOrArtifact).map(f => new Path(f.toURI))
      .getOrElse(new Path(pathOrArtifact))
    val fs = path.getFileSystem(conf)
    if (!fs.isFile(path)) {
      throw new IllegalArgumentException(
        s"$param '$pathOrArtifact' is neither a Spark Connect " +
          s"artifact of this session nor a file ($path)")
    }
    val status = fs.getFileStatus(path)
    ModelFiles.checkSize(s"$param '$pathOrArtifact'", status.getLen, spark)
    getOrLoad(
      path.toString, s"${status.getLen}:${status.getModificationTime}")(read(fs, path, conf))
  }
}
