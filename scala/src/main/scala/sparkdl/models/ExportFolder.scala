package sparkdl.models

import java.io.File

import scala.util.Try

import org.apache.hadoop.fs.Path
import org.apache.spark.{SparkEnv, SparkFiles}
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.sparkdl.SessionHooks

import sparkdl.io.ConnectArtifacts

/**
 * Export directories, as `python -m sparkdl.models export` and Python's automatic export write
 * them: `<dir>/<modelName>/model.json` beside the model file. Where a named model's export is
 * looked for, in order:
 *   1. the stage's `modelDir` (or a SQL function's registration), the only place looked at when
 *      set;
 *   1. the Spark conf `spark.sparkdl.modelDir`, when it holds an export of the model;
 *   1. an export a Spark Connect client uploaded to this session (the archive a Python stage
 *      sends);
 *   1. Python's export cache: the conf `spark.sparkdl.modelCache`, else `$SPARKDL_MODEL_CACHE`,
 *      else `$HOME/.cache/sparkdl/models`, each under its weights key (`imagenet` for the named
 *      image models' default weights, `text` for the built-in text models), as Python writes it.
 * So a SQL function finds what a Python stage of the same machine exported, with no setting.
 */
object ExportFolder {

  /** The Spark confs of exports (Python's `sparkdl.models.contract.Conf`). */
  object Conf {

    /** An export directory looked in before Python's export cache. */
    val ModelDir = "spark.sparkdl.modelDir"

    /** Python's export cache, when not the default (Python's `$SPARKDL_MODEL_CACHE`). */
    val ModelCache = "spark.sparkdl.modelCache"

    /** The engine of named image models when a stage does not set one. */
    val Engine: String = sparkdl.inference.Engines.Conf
  }

  /**
   * The sub-folders of Python's export cache, by weights: named image models' default weights, text
   * models.
   */
  object CacheKey {
    val ImageNet = "imagenet"
    val Text = "text"
  }

  /** The files of an export, in `<dir>/<modelName>/`. */
  object Files {
    val ModelJson = "model.json"
    val Graph = "graph.pb"
    val Onnx = "model.onnx"
    val Int8Onnx = "model.int8.onnx"
    val Vocab = "vocab.txt"
    val Tokenizer = "tokenizer.json"
  }

  /** The keys of `model.json`. */
  object Key {
    val ModelName = "modelName"
    val Kind = "kind"
    val Engine = "engine"
    val GraphSha256 = "graphSha256"
    // a named image model: its input size and tensors
    val Height = "height"
    val Width = "width"
    val InputTensor = "inputTensor"
    val FeaturesTensor = "featuresTensor"
    val PredictionsTensor = "predictionsTensor"
    // a named image model's ONNX form: its digest (written only when it equals Keras' outputs),
    // the largest difference measured, or why there is none
    val OnnxSha256 = "onnxSha256"
    val OnnxMaxError = "onnxMaxError"
    val OnnxRefused = "onnxRefused"
    // a named image model's int8 form (made from the ONNX form when asked for): its digest, or why
    // there is none
    val Int8Sha256 = "int8Sha256"
    val Int8Refused = "int8Refused"
    // a text model: its tensors, token limit and tokenizer
    val InputIdsTensor = "inputIdsTensor"
    val AttentionMaskTensor = "attentionMaskTensor"
    val TokenTypeIdsTensor = "tokenTypeIdsTensor"
    val EmbeddingTensor = "embeddingTensor"
    val MaxLength = "maxLength"
    val Tokenizer = "tokenizer"
    val Lowercase = "lowercase"
    val StripAccents = "stripAccents"
    val ChineseChars = "chineseChars"
  }

  /** The values of `model.json`'s `kind` (an image export written before kinds has none). */
  object Kind {
    val Image = "image"
    val Text = "text"
  }

  /** The values of `model.json`'s `engine` (none: a TensorFlow frozen graph). */
  object Engine {
    val TensorFlow: String = sparkdl.inference.Engines.TensorFlow
    val Onnx: String = sparkdl.inference.Engines.Onnx
  }

  /**
   * Every name above by its place (`"Key.InputTensor" -> "inputTensor"`): Python's
   * `sparkdl.models.contract` holds the same, which a test compares.
   */
  val contract: Map[String, String] = Map(
    "Conf.ModelDir" -> Conf.ModelDir, "Conf.ModelCache" -> Conf.ModelCache,
    "Conf.Engine" -> Conf.Engine,
    "CacheKey.ImageNet" -> CacheKey.ImageNet, "CacheKey.Text" -> CacheKey.Text,
    "Files.ModelJson" -> Files.ModelJson, "Files.Graph" -> Files.Graph, "Files.Onnx" -> Files.Onnx,
    "Files.Int8Onnx" -> Files.Int8Onnx,
    "Files.Vocab" -> Files.Vocab, "Files.Tokenizer" -> Files.Tokenizer,
    "Key.ModelName" -> Key.ModelName, "Key.Kind" -> Key.Kind, "Key.Engine" -> Key.Engine,
    "Key.GraphSha256" -> Key.GraphSha256, "Key.Height" -> Key.Height, "Key.Width" -> Key.Width,
    "Key.InputTensor" -> Key.InputTensor, "Key.FeaturesTensor" -> Key.FeaturesTensor,
    "Key.PredictionsTensor" -> Key.PredictionsTensor, "Key.OnnxSha256" -> Key.OnnxSha256,
    "Key.OnnxMaxError" -> Key.OnnxMaxError, "Key.OnnxRefused" -> Key.OnnxRefused,
    "Key.Int8Sha256" -> Key.Int8Sha256, "Key.Int8Refused" -> Key.Int8Refused,
    "Key.InputIdsTensor" -> Key.InputIdsTensor,
    "Key.AttentionMaskTensor" -> Key.AttentionMaskTensor,
    "Key.TokenTypeIdsTensor" -> Key.TokenTypeIdsTensor,
    "Key.EmbeddingTensor" -> Key.EmbeddingTensor, "Key.MaxLength" -> Key.MaxLength,
    "Key.Tokenizer" -> Key.Tokenizer, "Key.Lowercase" -> Key.Lowercase,
    "Key.StripAccents" -> Key.StripAccents,
    "Key.ChineseChars" -> Key.ChineseChars, "Kind.Image" -> Kind.Image, "Kind.Text" -> Kind.Text,
    "Engine.TensorFlow" -> Engine.TensorFlow, "Engine.Onnx" -> Engine.Onnx)

  /** The name prefix of an export a Spark Connect client uploads (Python's `upload_export`). */
  private def uploadPrefix(modelName: String) = s"sparkdl-model-$modelName-"

  /** `<dir>/<modelName>/model.json`. */
  def modelJson(dir: String, modelName: String): Path =
    new Path(new Path(dir, modelName), Files.ModelJson)

  /**
   * The export directory holding `modelName`, looked for as the object's documentation says; an
   * error naming every place looked at, and how to write an export, when none holds it.
   */
  def resolve(modelName: String, modelDir: Option[String], cacheKey: String): String = {
    checkName(modelName)
    resolveChecked(modelName, modelDir, cacheKey)
  }

  /**
   * A model name is a folder's name inside an export directory, never a path: no `/`, `\`, `:`, and
   * not `.` or `..`, so a SQL call or a saved stage naming `../../x` or `/etc/x` cannot load an
   * export from outside the export directory (a folder elsewhere is given as `modelDir`).
   */
  def checkName(modelName: String): Unit =
    if (modelName.isEmpty || modelName == "." || modelName == ".." ||
        modelName.exists(c => "/\\:\u0000".contains(c))) {
      throw new IllegalArgumentException(
        s"'$modelName' is not a model name: a name is a folder inside an export " +
          "directory (no '/', '\\', ':', '..'). To use an export elsewhere, give " +
          "its directory as modelDir and the model's folder name as the name.")
    }

  private def resolveChecked(modelName: String, modelDir: Option[String], cacheKey: String)
      : String = modelDir match {
    case Some(dir) => local(dir)
    case None =>
      val spark = SparkSession.getActiveSession
      val conf = spark.flatMap(_.conf.getOption(Conf.ModelDir)).filter(_.trim.nonEmpty).map(local)
      val cache = new File(cacheRoot(spark), cacheKey).getPath
      val candidates = conf.toSeq ++ uploaded(modelName, spark).toSeq :+ cache
      candidates.find(dir =>
        spark.forall(s => Try(holds(dir, modelName, s)).getOrElse(false))).getOrElse {
        throw new IllegalArgumentException(
          s"No export of $modelName was found (looked in " +
            s"${candidates.map(d => s"'$d'").mkString(", ")}). From Python, a stage " +
            "using it exports it once into the cache; for Scala or a server, write " +
            s"one with `python -m sparkdl.models export --model $modelName --out DIR` " +
            s"and set the stage's modelDir (or the Spark conf ${Conf.ModelDir}) to DIR.")
      }
  }

  /**
   * Python's export cache, as Python finds it (`$HOME`, not Java's `user.home`, which ignores it).
   */
  def cacheRoot(spark: Option[SparkSession]): String =
    spark.flatMap(_.conf.getOption(Conf.ModelCache)).filter(_.trim.nonEmpty)
      .orElse(sys.env.get("SPARKDL_MODEL_CACHE").filter(_.nonEmpty))
      .getOrElse {
        val home = sys.env.getOrElse("HOME", System.getProperty("user.home"))
        new File(home, ".cache/sparkdl/models").getPath
      }

  /** A directory as given, or the unpacked archive of that name a Spark Connect client uploaded. */
  private def local(dir: String): String =
    ConnectArtifacts.directory(dir).map(_.getAbsolutePath).getOrElse(dir)

  /**
   * The newest export of `modelName` a Spark Connect client uploaded to this session, if any: in
   * the folder of the session's artifacts (`SparkFiles`' root, then its sub-folder named by the
   * session's id, where a SQL command's analysis finds them: it runs outside the session's artifact
   * scope).
   */
  private def uploaded(modelName: String, spark: Option[SparkSession]): Option[String] =
    Option(SparkEnv.get).flatMap { _ =>
      val root = new File(SparkFiles.getRootDirectory())
      val folders = root +: spark.map(s => new File(root, SessionHooks.sessionUUID(s))).toSeq
      folders.flatMap(f => Option(f.listFiles()).toSeq.flatten)
        .filter(d =>
          d.getName.startsWith(uploadPrefix(modelName)) &&
            new File(new File(d, modelName), Files.ModelJson).isFile)
        .sortBy(-_.lastModified()).headOption.map(_.getAbsolutePath)
    }

  /**
   * `" (did you mean 'X'?)"` for the one valid name `name` is most likely a slip of (its case, the
   * only name it is a prefix of, or at most 2 letters off and no more than a quarter of the name),
   * else "". The same rule as Python's `did_you_mean`.
   */
  def didYouMean(name: String, valid: Seq[String]): String = {
    val lower = name.toLowerCase
    def distance(a: String, b: String): Int = {
      val row = Array.tabulate(b.length + 1)(identity)
      for (i <- 1 to a.length) {
        var diagonal = row(0)
        row(0) = i
        for (j <- 1 to b.length) {
          val above = row(j)
          row(j) = math.min(
            math.min(row(j) + 1, row(j - 1) + 1), diagonal + (if (a(i - 1) == b(j - 1)) 0 else 1))
          diagonal = above
        }
      }
      row(b.length)
    }
    val near = valid.map(v => (distance(lower, v.toLowerCase), v)).sorted
      .collect { case (d, v) if d == 0 || d <= math.min(2, v.length / 4) => v }
    val prefixed = if (lower.isEmpty) Nil else valid.filter(_.toLowerCase.startsWith(lower))
    near.headOption.orElse(if (prefixed.size == 1) prefixed.headOption else None)
      .fold("")(v => s" (did you mean '$v'?)")
  }

  private def holds(dir: String, modelName: String, spark: SparkSession): Boolean = {
    val meta = modelJson(dir, modelName)
    meta.getFileSystem(spark.sparkContext.hadoopConfiguration).exists(meta)
  }

  /**
   * `<dir>/<modelName>/model.json` (any Hadoop file system), checked to exist (the error says how
   * to write it), and a key that changes when the file does (its length and modification time).
   */
  private[sparkdl] def metadata(dir: String, modelName: String, spark: SparkSession)
      : (Path, String) = {
    val metaPath = modelJson(dir, modelName)
    val fs = metaPath.getFileSystem(spark.sparkContext.hadoopConfiguration)
    if (!fs.exists(metaPath)) {
      val held = Try(fs.listStatus(new Path(dir)).toSeq.filter(_.isDirectory).map(_.getPath.getName)
          .filter(n => fs.exists(modelJson(dir, n))).sorted).getOrElse(Nil)
      throw new IllegalArgumentException(
        s"$metaPath does not exist: modelDir '$dir' holds no export of $modelName" +
          (if (held.isEmpty) ""
           else s" (it holds ${held.mkString(", ")}${didYouMean(modelName, held)})") +
          s". Write one with `python -m sparkdl.models export --model $modelName --out $dir`")
    }
    val status = fs.getFileStatus(metaPath)
    (metaPath, s"${status.getLen}:${status.getModificationTime}")
  }

  /**
   * `read` over the JSON of the export's `model.json` at `metaPath`. A file that is not JSON, or
   * lacks a key or holds a value of another type than `read` asks for (a damaged or planted file),
   * is refused naming it, instead of the parser's message.
   */
  def readMetadata[T](metaPath: Path, spark: SparkSession)(read: org.json4s.JValue => T): T = {
    val text = new String(sparkdl.io.HadoopFiles.read(metaPath, spark), "UTF-8")
    try read(org.json4s.jackson.JsonMethods.parse(text))
    catch {
      case e @ (_: org.json4s.MappingException |
          _: com.fasterxml.jackson.core.JsonProcessingException) =>
        val why = Option(e.getMessage).getOrElse(e.toString).linesIterator.take(2).mkString(" ")
        throw new IllegalArgumentException(
          s"$metaPath is not an export's model.json ($why). Export the model again with " +
            s"`python -m sparkdl.models export`, or delete the folder to let sparkdl export it.", e)
    }
  }
}
