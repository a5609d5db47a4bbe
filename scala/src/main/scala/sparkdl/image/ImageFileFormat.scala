package sparkdl.image

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileStatus, Path}
import org.apache.hadoop.mapreduce.Job
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.execution.datasources.{FileFormat, OutputWriterFactory, PartitionedFile}
import org.apache.spark.sql.internal.SQLConf
import org.apache.spark.sql.sources.Filter
import org.apache.spark.sql.types.StructType
import org.apache.spark.unsafe.types.UTF8String

import sparkdl.io.SerializableHadoopConf

/**
 * Image files as a Spark file format: each file one row of [[ImageReader.schema]] (`filePath, image,
 * imageError`), read and decoded by the same code as `readImages` ([[ImageReader.decodeFile]]) only
 * when `image` or `imageError` is read: a query of `filePath`, partition columns or `_metadata` opens
 * no file. Files are never split. With `ignoreCorruptFiles` (the option, or Spark's conf) a file that
 * does not decode gives no row (so every query decodes, a count too); otherwise a row with a null
 * image and the reason. Read-only.
 * Spark's file index lists the files ([[ImageDataSource]] registers the format as `sparkdl.image`).
 */
class ImageFileFormat extends FileFormat with Serializable {

  override def inferSchema(spark: SparkSession, options: Map[String, String],
                           files: Seq[FileStatus]): Option[StructType] = Some(ImageReader.schema)

  override def prepareWrite(spark: SparkSession, job: Job, options: Map[String, String],
                            dataSchema: StructType): OutputWriterFactory =
    throw new UnsupportedOperationException(
      s"${ImageDataSource.Format} is read-only: write images with binaryFile's bytes, e.g. to Parquet")

  override def isSplitable(spark: SparkSession, options: Map[String, String], path: Path): Boolean = false

  override def buildReader(spark: SparkSession, dataSchema: StructType, partitionSchema: StructType,
                           requiredSchema: StructType, filters: Seq[Filter], options: Map[String, String],
                           hadoopConf: Configuration): PartitionedFile => Iterator[InternalRow] = {
    val decoding = ImageReadOptions.parse(options, needsPath = false)
    val skipCorrupt = options.collectFirst { case (k, v) if k.equalsIgnoreCase("ignoreCorruptFiles") => v.toBoolean }
      .getOrElse(spark.sessionState.conf.getConf(SQLConf.IGNORE_CORRUPT_FILES))
    val conf = spark.sparkContext.broadcast(new SerializableHadoopConf(hadoopConf))
    val fields = requiredSchema.fieldNames.toSeq
    // which files decode is known only by decoding: with ignoreCorruptFiles, even a count decodes
    val decode = skipCorrupt || fields.exists(_ != ImageReader.FilePathCol)
    file => {
      val name = file.toPath.toString
      val path = UTF8String.fromString(name)
      if (!decode) Iterator.single(InternalRow.fromSeq(fields.map(_ => path)))
      else {
        val (image, error) = ImageReader.decodeFile(name, conf.value.value, decoding) match {
          case Right(img) => (ImageFields.internalRow(name, img), img.note.map(UTF8String.fromString).orNull)
          case Left(reason) => (null, UTF8String.fromString(reason))
        }
        if (image == null && skipCorrupt) Iterator.empty
        else {
          Iterator.single(InternalRow.fromSeq(fields.map {
            case ImageReader.FilePathCol => path
            case ImageReader.ImageCol => image
            case _ => error
          }))
        }
      }
    }
  }

  override def toString: String = ImageDataSource.Format
}
