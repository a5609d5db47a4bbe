package sparkdl.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.sparkdl.StageMetadata
import org.apache.spark.ml.util.{MLReader, MLWriter}

import sparkdl.io.HadoopFiles
import sparkdl.models.ExportFolder

/** A stage that runs an exported model: `modelName` in the export directory `modelDir`. */
trait ExportedModelParams extends org.apache.spark.ml.param.Params {
  def modelName: org.apache.spark.ml.param.Param[String]
  def modelDir: org.apache.spark.ml.param.Param[String]

  /** The files of one model's export folder. */
  def exportFiles: Seq[String]

  /** Files an export may hold beside those (a named image model's ONNX form): saved when there. */
  def optionalExportFiles: Seq[String] = Nil

  /** The export directory holding `modelName`, found by the stage's registry of models. */
  def exportDir: String

  final def getModelName: String = $(modelName)
  def setModelDir(value: String): this.type
}

/**
 * Writes a named-model stage so that it is self-contained: params as Spark ML metadata (without
 * `modelDir`, which names a place on the machine that saved it), and the model's export
 * (`export/<modelName>/`: its `model.json`, model and tokenizer files, as `python -m sparkdl.models
 * export` writes them) beside it. Loading and scoring it needs neither TensorFlow in Python nor the
 * original export.
 */
private[ml] class NamedModelWriter(stage: ExportedModelParams) extends MLWriter {
  override protected def saveImpl(path: String): Unit = {
    val name = StageSchema.required(stage, stage.modelName)
    val source = new Path(stage.exportDir, name)
    val target = new Path(new Path(path, NamedModelWriter.ExportDir), name)
    for (file <- stage.exportFiles ++ stage.optionalExportFiles) {
      val from = new Path(source, file)
      if (HadoopFiles.exists(from, sparkSession)) {
        HadoopFiles.write(
          HadoopFiles.read(from, sparkSession), new Path(target, file), sparkSession)
      } else if (stage.exportFiles.contains(file)) {
        throw new IllegalArgumentException(s"${stage.uid}: cannot save $name: $from does not exist")
      }
    }
    StageMetadata.save(stage, path, sparkSession, exclude = Set("modelDir"))
  }
}

private[ml] object NamedModelWriter {
  val ExportDir = "export"
}

/**
 * Reads what [[NamedModelWriter]] wrote: the stage's `modelDir` is the saved `export` folder. (A
 * stage saved before exports were written keeps the params it was saved with.)
 */
private[ml] class NamedModelReader[T <: ExportedModelParams](className: String, make: String => T)
  extends MLReader[T] {
  override def load(path: String): T = {
    val (stage, _) = StageMetadata.load(path, sparkSession, className, make, exclude = Set.empty)
    val saved = new Path(path, NamedModelWriter.ExportDir)
    if (stage.isDefined(stage.modelName) &&
        HadoopFiles.exists(
          ExportFolder.modelJson(saved.toString, stage.getModelName), sparkSession)) {
      stage.setModelDir(saved.toString)
    }
    stage
  }
}
