package sparkdl.ml

import org.apache.commons.io.IOUtils
import org.apache.hadoop.fs.Path
import org.apache.spark.sql.SparkSession

/** Reads and writes GraphDef bytes on any Hadoop file system (for stage persistence). */
private[sparkdl] object FrozenGraphFile {

  def write(bytes: Array[Byte], path: Path, spark: SparkSession): Unit = {
    val fs = path.getFileSystem(spark.sparkContext.hadoopConfiguration)
    val out = fs.create(path, true)
    try out.write(bytes) finally out.close()
  }

  def read(path: Path, spark: SparkSession): Array[Byte] = {
    val fs = path.getFileSystem(spark.sparkContext.hadoopConfiguration)
    val in = fs.open(path)
    try IOUtils.toByteArray(in) finally in.close()
  }
}
