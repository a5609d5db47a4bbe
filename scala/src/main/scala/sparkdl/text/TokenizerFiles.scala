package sparkdl.text

import org.apache.hadoop.fs.Path
import org.apache.spark.sql.SparkSession

import sparkdl.io.{ConnectArtifacts, FileCache, HadoopFiles}

/**
 * `tokenizer.json` files named by a path on any Hadoop file system or a Spark Connect artifact name
 * (a file the client uploaded), or by a folder holding one (a Hugging Face model folder); read and
 * parsed once per JVM while the file is unchanged.
 */
object TokenizerFiles {

  val FileName = "tokenizer.json"

  private val cache = new FileCache[TokenizerJson]

  /**
   * The tokenizer at `pathOrArtifact` (`param` names it in errors); `maxLength` > 0 sets its token
   * limit, 0 keeps the file's (else [[TokenizerJson.DefaultMaxLength]]).
   */
  def read(pathOrArtifact: String, maxLength: Int = 0, param: String = "tokenizer")
      : TokenizerJson = {
    val tokenizer = cache.getOrLoadFile(param, file(pathOrArtifact)) { (_, path, conf) =>
      TokenizerJson.fromBytes(HadoopFiles.read(path, conf), path.toString)
    }
    if (maxLength > 0) tokenizer.withMaxLength(maxLength) else tokenizer
  }

  /** `pathOrArtifact`, or the `tokenizer.json` inside it when it names a folder. */
  def file(pathOrArtifact: String): String =
    ConnectArtifacts.directory(pathOrArtifact)
      .map(d => new java.io.File(d, FileName).toURI.toString).getOrElse {
        if (ConnectArtifacts.file(pathOrArtifact).isDefined) pathOrArtifact
        else {
          val path = new Path(pathOrArtifact)
          val fs = path.getFileSystem(SparkSession.active.sparkContext.hadoopConfiguration)
          val folder = scala.util.Try(fs.getFileStatus(path).isDirectory).getOrElse(false)
          if (folder) new Path(path, FileName).toString else pathOrArtifact
        }
      }
}
