package sparkdl.image

import org.apache.hadoop.fs.Path
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.{Row, SQLContext, SparkSession}
import org.apache.spark.sql.execution.datasources.{DataSource, HadoopFsRelation}
import org.apache.spark.sql.execution.streaming.Source
import org.apache.spark.sql.sources.{
  BaseRelation, DataSourceRegister, PrunedScan, RelationProvider, StreamSourceProvider
}
import org.apache.spark.sql.types.StructType

import sparkdl.io.SerializableHadoopConf

/**
 * The image data source, `spark.read.format("sparkdl.image").load(path)` (also `readStream`, SQL's
 * `CREATE TABLE t USING sparkdl.image OPTIONS (path '...')` and Spark Connect clients): one row per
 * file, `filePath, image, imageError` ([[ImageReader.schema]]), a file that does not decode a row
 * with a null image and the reason. Files are read and decoded by [[ImageFileFormat]] only when
 * `image` or `imageError` is read. Two listings:
 *   - Spark's (the default): a Spark file source like `binaryFile`, over Spark's file index:
 *     parallel listing (a Spark job past `spark.sql.sources.parallelPartitionDiscovery.threshold`
 *     paths), sub-folders always read, partition columns discovered (`label=cat/`), the generic
 *     options (`pathGlobFilter`, `recursiveFileLookup`, `modifiedBefore` / `modifiedAfter`,
 *     `ignoreCorruptFiles`: a file that does not decode is left out, `ignoreMissingFiles`), the
 *     hidden `_metadata` column, `readStream` (`maxFilesPerTrigger`, `latestFirst`, ...; no schema
 *     needed), and Spark's rules for names (`_x` and `.x` are not data); an empty file keeps its
 *     row (Spark's scan drops zero-length files: [[EmptyFilesKept]]), except in `readStream`;
 *   - `readImages`' (`listing` `readImages`, implied by its options `recursive`, `includeHidden`
 *     and `numPartitions`): listed on the driver, every name a row (a broken link, a FIFO: a row
 *     with the reason; `_MG_0002.JPG` read; dot-files with `includeHidden`), sub-folders with
 *     `recursive`, `numPartitions` partitions (default: about one per 1,000 files, at least the
 *     default parallelism).
 * Decoding options of both: `maxPixels` (default 100,000,000: images declaring more are not
 * decoded), `maxBytes` (default 512 MiB: larger files are not read), `draftSize` (`224` or
 * `224,160` as height,width: JPEGs decoded at the smallest DCT scale that keeps them at least that
 * large), `applyExifOrientation` (default false). A path that exists is read literally
 * (`photos[2024]`), else as a glob. FIFOs, devices and sockets are never opened.
 */
class ImageDataSource extends ImageFileFormat with DataSourceRegister with RelationProvider
  with StreamSourceProvider {

  override def shortName(): String = ImageDataSource.Format

  override def createRelation(sqlContext: SQLContext, parameters: Map[String, String])
      : BaseRelation = {
    val options = ImageReadOptions.parse(parameters)
    if (options.listing == ImageReadOptions.ReadImagesListing)
      new ImageRelation(sqlContext.sparkSession, options)
    else {
      fileSource(sqlContext, None, parameters).resolveRelation() match {
        case files: HadoopFsRelation => EmptyFilesKept(files)
        case other => other
      }
    }
  }

  override def sourceSchema(sqlContext: SQLContext, schema: Option[StructType],
                            providerName: String,
                            parameters: Map[String, String]): (String, StructType) = {
    checkStreamable(parameters)
    val info =
      fileSource(sqlContext, schema.orElse(Some(ImageReader.schema)), parameters).sourceInfo
    (info.name, info.schema)
  }

  override def createSource(sqlContext: SQLContext, metadataPath: String,
                            schema: Option[StructType],
                            providerName: String, parameters: Map[String, String]): Source = {
    checkStreamable(parameters)
    fileSource(sqlContext, schema.orElse(Some(ImageReader.schema)), parameters)
      .createSource(metadataPath)
  }

  private def checkStreamable(parameters: Map[String, String]): Unit =
    if (ImageReadOptions.parse(parameters).listing == ImageReadOptions.ReadImagesListing) {
      throw new IllegalArgumentException(
        s"${ImageDataSource.Format}: readStream uses Spark's listing; leave out the options " +
          "recursive, includeHidden, numPartitions and listing (sub-folders are always read)")
    }

  /** Spark's file source over [[ImageFileFormat]], with these options. */
  private def fileSource(sqlContext: SQLContext, schema: Option[StructType],
                         parameters: Map[String, String]) =
    DataSource(sqlContext.sparkSession, className = classOf[ImageFileFormat].getName,
      userSpecifiedSchema = schema,
      options = parameters)
}

object ImageDataSource {

  /** The format name: `spark.read.format(ImageDataSource.Format)`. */
  val Format = "sparkdl.image"
}

/** The options of the image data source, checked on the driver with messages naming them. */
final case class ImageReadOptions(path: String, recursive: Boolean, numPartitions: Int,
                                  maxPixels: Long,
                                  draft: (Int, Int), includeHidden: Boolean = false,
                                  maxBytes: Long = ImageReader.DefaultMaxBytes,
                                  exifOrientation: Boolean = false,
                                  listing: String = ImageReadOptions.SparkListing)

object ImageReadOptions {

  val SparkListing = "spark"
  val ReadImagesListing = "readImages"

  /** The options that belong to `readImages`' listing. */
  private val ListingOptions = Seq("recursive", "includeHidden", "numPartitions")

  /** The options; without `path` (the file source's reader, which gets one file at a time) "". */
  def parse(parameters: Map[String, String], needsPath: Boolean = true): ImageReadOptions = {
    val options = parameters.map { case (k, v) => k.toLowerCase -> v }
    def get[T](name: String, default: T, what: String)(parse: String => Option[T]): T =
      options.get(name.toLowerCase).map(v =>
        parse(v.trim).getOrElse(throw new IllegalArgumentException(
            s"${ImageDataSource.Format}: option $name must be $what, got '$v'"))).getOrElse(default)
    val path = options.getOrElse("path",
      if (!needsPath) ""
      else throw new IllegalArgumentException(
        s"${ImageDataSource.Format}: give one path: " +
          s"spark.read.format(\"${ImageDataSource.Format}\").load(path)"))
    val listing = options.get("listing").map(_.trim) match {
      case Some(l) if l.equalsIgnoreCase(ReadImagesListing) => ReadImagesListing
      case Some(l) if l.equalsIgnoreCase(SparkListing) =>
        ListingOptions.find(o => options.contains(o.toLowerCase)).foreach(o =>
          throw new IllegalArgumentException(
            s"${ImageDataSource.Format}: option $o belongs to listing '$ReadImagesListing'; " +
              "Spark's listing reads sub-folders always (recursiveFileLookup turns off " +
              "partition discovery) and plans its own partitions"))
        SparkListing
      case Some(other) => throw new IllegalArgumentException(
          s"${ImageDataSource.Format}: option listing must be " +
            s"$SparkListing or $ReadImagesListing, got '$other'")
      case None =>
        if (ListingOptions.exists(o => options.contains(o.toLowerCase))) ReadImagesListing
        else SparkListing
    }
    ImageReadOptions(
      path = path,
      recursive = get("recursive", false, "true or false")(_.toBooleanOption),
      numPartitions = get("numPartitions", 0, "an integer >= 0")(_.toIntOption.filter(_ >= 0)),
      maxPixels = get("maxPixels", ImageDecoder.DefaultMaxPixels, "a positive integer")(
        _.toLongOption.filter(_ > 0)),
      draft =
        get("draftSize", (0, 0), "a positive size: 224, or height,width as 224,160")(draftSize),
      includeHidden = get("includeHidden", false, "true or false")(_.toBooleanOption),
      maxBytes = get(
        "maxBytes", ImageReader.DefaultMaxBytes, s"an integer from 1 to ${Int.MaxValue - 8}")(
        _.toLongOption.filter(b => b > 0 && b <= Int.MaxValue - 8)),
      exifOrientation = get("applyExifOrientation", false, "true or false")(_.toBooleanOption),
      listing = listing)
  }

  /** `n` or `height,width`; one of height and width may be 0 (no constraint on that side). */
  private def draftSize(value: String): Option[(Int, Int)] =
    value.split(",").map(_.trim.toIntOption.filter(_ >= 0)) match {
      case Array(Some(n)) if n > 0 => Some((n, n))
      case Array(Some(h), Some(w)) if h > 0 || w > 0 => Some((h, w))
      case _ => None
    }
}

/**
 * `readImages`' listing: the files under one path, listed on the driver, as an image table that
 * decodes only when `image` or `imageError` is read.
 */
private[image] class ImageRelation(spark: SparkSession, options: ImageReadOptions)
  extends BaseRelation with PrunedScan {

  private val files: Seq[String] =
    ImageReader.listFiles(
      new Path(options.path), spark.sparkContext.hadoopConfiguration, options.recursive,
      options.includeHidden)

  override def sqlContext: SQLContext = spark.sqlContext

  override def schema: StructType = ImageReader.schema

  override def buildScan(requiredColumns: Array[String]): RDD[Row] = {
    val sc = spark.sparkContext
    val parts =
      if (options.numPartitions > 0)
        math.max(1, math.min(options.numPartitions, files.size)) // a file a partition at most
      else math.max(
        1,
        math.min(files.size,
          math.max(sc.defaultParallelism, files.size / ImageRelation.FilesPerPartition + 1)))
    val conf = sc.broadcast(new SerializableHadoopConf(sc.hadoopConfiguration))
    val opts = options
    val indices = requiredColumns.map(ImageReader.schema.fieldIndex)
    val decode = requiredColumns.exists(_ != ImageReader.FilePathCol)
    sc.parallelize(files, parts).mapPartitions { it =>
      it.map { file =>
        if (!decode) Row.fromSeq(indices.toSeq.map(_ => file))
        else {
          val row = ImageReader.readOne(file, conf.value.value, opts)
          Row.fromSeq(indices.toSeq.map(row.get))
        }
      }
    }
  }
}

private object ImageRelation {

  /** Files per partition when the caller does not choose the partition count. */
  val FilesPerPartition = 1000
}
