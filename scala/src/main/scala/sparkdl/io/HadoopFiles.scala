package sparkdl.io

import java.io.{ObjectInputStream, ObjectOutputStream}

import org.apache.commons.io.IOUtils
import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path
import org.apache.spark.sql.SparkSession

/** Whole files as bytes on any Hadoop file system (stage persistence, model exports). */
private[sparkdl] object HadoopFiles {

  def write(bytes: Array[Byte], path: Path, spark: SparkSession): Unit = {
    val fs = path.getFileSystem(spark.sparkContext.hadoopConfiguration)
    val out = fs.create(path, true)
    try out.write(bytes)
    finally out.close()
  }

  def read(path: Path, spark: SparkSession): Array[Byte] =
    read(path, spark.sparkContext.hadoopConfiguration)

  def exists(path: Path, spark: SparkSession): Boolean =
    path.getFileSystem(spark.sparkContext.hadoopConfiguration).isFile(path)

  private val Qualified = """^([a-zA-Z][a-zA-Z0-9+.-]*):(?://([^/]*))?(/.*)$""".r

  /**
   * The Path of a file named as `Path.toString` prints it (`file:/photos/12:30:00.jpg`): unlike
   * `new Path(string)`, characters a URI escapes (`:` in a file name, spaces, `%`) stay literal.
   */
  def pathOf(name: String): Path = name match {
    case Qualified(scheme, authority, path) => new Path(scheme, authority, path)
    case _ => new Path(name)
  }

  def read(path: Path, conf: Configuration): Array[Byte] = {
    val fs = path.getFileSystem(conf)
    // Hadoop's checksummed local FS chokes on ':' in a name (its .crc's path)
    if (fs.getScheme == "file") {
      java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(fs.makeQualified(path).toUri))
    } else {
      val in = fs.open(path)
      try IOUtils.toByteArray(in)
      finally in.close()
    }
  }
}

/** A Hadoop Configuration that can be broadcast (Configuration is Writable, not Serializable). */
final class SerializableHadoopConf(@transient var value: Configuration) extends Serializable {
  private def writeObject(out: ObjectOutputStream): Unit = {
    out.defaultWriteObject()
    value.write(out)
  }

  private def readObject(in: ObjectInputStream): Unit = {
    value = new Configuration(false)
    value.readFields(in)
  }
}
