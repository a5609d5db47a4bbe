package sparkdl.models

import org.apache.hadoop.fs.Path
import org.apache.spark.sql.SparkSession

/** One model's folder in an export directory, as `python -m sparkdl.models export` writes it. */
object ExportFolder {

  /**
   * `<dir>/<modelName>/model.json` (any Hadoop file system), checked to exist (the error says how
   * to write it), and a key that changes when the file does (its length and modification time).
   */
  def metadata(dir: String, modelName: String, spark: SparkSession): (Path, String) = {
    val metaPath = new Path(new Path(dir, modelName), "model.json")
    val fs = metaPath.getFileSystem(spark.sparkContext.hadoopConfiguration)
    if (!fs.exists(metaPath)) {
      throw new IllegalArgumentException(
        s"$metaPath does not exist: modelDir '$dir' holds no export of $modelName. Write it with " +
          s"`python -m sparkdl.models export --model $modelName --out $dir`")
    }
    val status = fs.getFileStatus(metaPath)
    (metaPath, s"${status.getLen}:${status.getModificationTime}")
  }
}
