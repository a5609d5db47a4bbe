package sparkdl.io

import org.apache.hadoop.fs.Path
import org.apache.spark.network.util.JavaUtils
import org.apache.spark.sql.SparkSession

/**
 * Model files (ONNX models, frozen graphs, exports' `graph.pb`) are read whole on the driver and
 * sent to every executor, so their size is checked first: a file larger than
 * `spark.sparkdl.maxModelBytes` (default a quarter of the driver's heap, at most 2 GiB, protobuf's
 * own limit) is refused from its size alone, before a byte is read.
 */
private[sparkdl] object ModelFiles {

  /** The largest model file read whole: bytes, `512m` style. */
  val MaxBytesConf = "spark.sparkdl.maxModelBytes"

  /** A protobuf message, and so a model file read as one, is at most 2 GiB. */
  private val ProtobufMax: Long = Int.MaxValue.toLong

  def maxBytes(spark: SparkSession): Long =
    spark.conf.getOption(MaxBytesConf).filter(_.trim.nonEmpty).map(JavaUtils.byteStringAsBytes)
      .getOrElse(math.min(ProtobufMax, Runtime.getRuntime.maxMemory / 4))

  /**
   * Fails, naming `what` and the setting, when a model file of `length` bytes is over the limit.
   */
  def checkSize(what: String, length: Long, spark: SparkSession): Unit = {
    val limit = maxBytes(spark)
    if (length > limit) {
      throw new IllegalArgumentException(
        s"$what is $length bytes, more than the $limit a model file may have here: a model is " +
          s"read whole on the driver and sent to every executor (the limit: $MaxBytesConf, " +
          "default a quarter of the driver's heap, at most 2 GiB, protobuf's own limit). Not read.")
    }
  }

  /** The bytes of the model file at `path`, after [[checkSize]]. */
  def read(path: Path, spark: SparkSession): Array[Byte] = {
    checkSize(s"model file $path",
      path.getFileSystem(spark.sparkContext.hadoopConfiguration).getFileStatus(path)
        .getLen, spark)
    HadoopFiles.read(path, spark)
  }
}
