package sparkdl.io

import java.io.File

import org.apache.spark.{SparkEnv, SparkFiles}

/**
 * Files and archives a Spark Connect client uploaded (`spark.addArtifacts(..., file=True)` or
 * `archive=True`), found by name where the session's tasks and driver read them (`SparkFiles`). A
 * name with `/` or `:` is a path, never an artifact.
 */
object ConnectArtifacts {

  /** The local file of artifact `name`, if it is one. */
  def file(name: String): Option[File] = local(name).filter(_.isFile)

  /** The unpacked directory of archive artifact `name`, if it is one. */
  def directory(name: String): Option[File] = local(name).filter(_.isDirectory)

  private def local(name: String): Option[File] =
    if (name.isEmpty || name.contains("/") || name.contains(":")) None
    else Option(SparkEnv.get).map(_ => new File(SparkFiles.get(name)))
}
