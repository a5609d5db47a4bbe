package sparkdl.image

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileStatus, Path}
import org.apache.hadoop.mapreduce.Job
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.Expression
import org.apache.spark.sql.execution.datasources.{
  FileFormat, FileIndex, FileStatusWithMetadata, HadoopFsRelation, OutputWriterFactory,
  PartitionDirectory,
  PartitionedFile, PartitioningAwareFileIndex
}
import org.apache.spark.sql.internal.SQLConf
import org.apache.spark.sql.sources.Filter
import org.apache.spark.sql.types.StructType
import org.apache.spark.unsafe.types.UTF8String

import sparkdl.io.SerializableHadoopConf

/**
 * Image files as a Spark file format: each file one row of [[ImageReader.schema]] (`filePath,
 * image, imageError`), read and decoded by the same code as `readImages`
 * ([[ImageReader.decodeFile]]) only when `image` or `imageError` is read: a query of `filePath`,
 * partition columns or `_metadata` opens no file. Files are never split. With `ignoreCorruptFiles`
 * (the option, or Spark's conf) a file that does not decode gives no row (so every query decodes, a
 * count too); otherwise a row with a null image and the reason. Read-only. Spark's file index lists
 * the files ([[ImageDataSource]] registers the format as `sparkdl.image`).
 */
class ImageFileFormat extends FileFormat with Serializable {

  override def inferSchema(spark: SparkSession, options: Map[String, String],
                           files: Seq[FileStatus]): Option[StructType] = Some(ImageReader.schema)

  override def prepareWrite(spark: SparkSession, job: Job, options: Map[String, String],
                            dataSchema: StructType): OutputWriterFactory =
    throw new UnsupportedOperationException(
      s"${ImageDataSource.Format} is read-only: write " +
        "images with binaryFile's bytes, e.g. to Parquet")

  override def isSplitable(spark: SparkSession, options: Map[String, String], path: Path): Boolean =
    false

  override def buildReader(spark: SparkSession, dataSchema: StructType, partitionSchema: StructType,
                           requiredSchema: StructType, filters: Seq[Filter],
                           options: Map[String, String],
                           hadoopConf: Configuration): PartitionedFile => Iterator[InternalRow] = {
    val decoding = ImageReadOptions.parse(options, needsPath = false)
    val skipCorrupt = options.collectFirst {
      case (k, v) if k.equalsIgnoreCase("ignoreCorruptFiles") => v.toBoolean
    }
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
          case Right(img) =>
            (ImageFields.internalRow(name, img), img.note.map(UTF8String.fromString).orNull)
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

  /**
   * Spark's `_metadata` fields, with an empty file's true size ([[EmptyFilesKept]] plans it as 1
   * byte).
   */
  override def fileConstantMetadataExtractors: Map[String, PartitionedFile => Any] = {
    val base = super.fileConstantMetadataExtractors
    val size = base(FileFormat.FILE_SIZE)
    base.updated(FileFormat.FILE_SIZE,
      (f: PartitionedFile) =>
        f.otherConstantMetadataColumnValues.getOrElse(EmptyFilesKept.TrueSize, size(f)))
  }

  override def toString: String = ImageDataSource.Format
}

/**
 * Spark's file index as the image source lists with it, except that an empty file is kept: Spark's
 * file scan leaves zero-length files out (no row at all, as `binaryFile` does), but an empty
 * `photo.jpg` is a broken image that gets its row and reason. Such a file is planned as 1 byte
 * long; its `_metadata.file_size` stays 0 ([[ImageFileFormat.fileConstantMetadataExtractors]]).
 * Filters on `_metadata` that Spark pushed into the listing do not apply to the files added back
 * here: Spark still evaluates them above the scan.
 */
private[image] final class EmptyFilesKept(underlying: FileIndex) extends FileIndex {
  override def rootPaths: Seq[Path] = underlying.rootPaths
  override def inputFiles: Array[String] = underlying.inputFiles
  override def refresh(): Unit = underlying.refresh()
  override def sizeInBytes: Long = underlying.sizeInBytes
  override def partitionSchema: StructType = underlying.partitionSchema
  override def metadataOpsTimeNs: Option[Long] = underlying.metadataOpsTimeNs

  // Spark's listFiles leaves zero-length files out: they come back here
  // from allFiles, each into its partition's directory (a partition of
  // empty files only, when no partition filter was pushed)
  override def listFiles(partitionFilters: Seq[Expression], dataFilters: Seq[Expression])
      : Seq[PartitionDirectory] = {
    val listed = underlying.listFiles(partitionFilters, dataFilters)
    underlying match {
      case index: PartitioningAwareFileIndex =>
        val empty = index.allFiles().filter(f => !f.isDirectory && f.getLen == 0)
        if (empty.isEmpty) listed
        else {
          def planned(s: FileStatus) = FileStatusWithMetadata(
            new FileStatus(
              1L, false, s.getReplication, s.getBlockSize, s.getModificationTime, s.getPath),
            Map(EmptyFilesKept.TrueSize -> 0L))
          if (partitionSchema.isEmpty) {
            val dir =
              listed.headOption.getOrElse(PartitionDirectory(InternalRow.empty,
                  Seq.empty[FileStatusWithMetadata]))
            PartitionDirectory(dir.values, dir.files ++ empty.map(planned)) +: listed.drop(1)
          } else {
            val byParent = empty.groupBy(_.getPath.getParent)
            val parents = listed.map(d => d.files.headOption.map(_.getPath.getParent))
            val extended = listed.zip(parents).map {
              case (dir, Some(parent)) if byParent.contains(parent) =>
                PartitionDirectory(dir.values, dir.files ++ byParent(parent).map(planned))
              case (dir, _) => dir
            }
            val onlyEmpty =
              if (partitionFilters.nonEmpty) Nil
              else index.partitionSpec().partitions.filter(p =>
                byParent.contains(p.path) &&
                  !parents.contains(Some(p.path))).map(p =>
                PartitionDirectory(p.values, byParent(p.path).map(planned)))
            extended ++ onlyEmpty
          }
        }
      case _ => listed
    }
  }

  override def toString: String = underlying.toString
}

private[image] object EmptyFilesKept {

  /** The metadata key of an empty file's true size. */
  val TrueSize = "sparkdl_true_file_size"

  def apply(relation: HadoopFsRelation): HadoopFsRelation =
    relation.copy(location = new EmptyFilesKept(relation.location))(relation.sparkSession)
}
