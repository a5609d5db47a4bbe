package sparkdl.image

import org.apache.hadoop.fs.Path
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.{Row, SQLContext, SparkSession}
import org.apache.spark.sql.sources.{BaseRelation, DataSourceRegister, PrunedScan, RelationProvider}
import org.apache.spark.sql.types.StructType

import sparkdl.io.SerializableHadoopConf

/**
 * The image data source: `spark.read.format("sparkdl.image").load(path)`, from any language,
 * SQL (`CREATE TABLE t USING sparkdl.image OPTIONS (path '...')`) and Spark Connect clients.
 * Columns and behaviour are [[ImageReader.readImages]]'s; options:
 *  - `recursive` (default false): also read sub-directories;
 *  - `numPartitions` (default 0: about one per 1,000 files, at least the default parallelism; at most one per file);
 *  - `maxPixels` (default 100,000,000): images declaring more pixels are not decoded;
 *  - `draftSize` (`224` or `224,160` as height,width; default full size): JPEGs decoded at the
 *    smallest DCT scale that keeps them at least that large;
 *  - `includeHidden` (default false): also list dot-files and dot-folders (`.x`, macOS `._x`).
 * A path that exists is read literally (`photos[2024]`), else as a glob. Only regular files are
 * read: a FIFO, device or socket gets a row with the reason. Files are listed on the driver when
 * the DataFrame is created; a query that reads only `filePath` reads no file.
 */
class ImageDataSource extends RelationProvider with DataSourceRegister {

  override def shortName(): String = ImageDataSource.Format

  override def createRelation(sqlContext: SQLContext, parameters: Map[String, String]): BaseRelation =
    new ImageRelation(sqlContext.sparkSession, ImageReadOptions(parameters))
}

object ImageDataSource {

  /** The format name: `spark.read.format(ImageDataSource.Format)`. */
  val Format = "sparkdl.image"
}

/** The options of the image data source, checked on the driver with messages naming them. */
final case class ImageReadOptions(path: String, recursive: Boolean, numPartitions: Int, maxPixels: Long,
                                  draft: (Int, Int), includeHidden: Boolean = false,
                                  maxBytes: Long = ImageReader.DefaultMaxBytes, exifOrientation: Boolean = false)

object ImageReadOptions {

  def apply(parameters: Map[String, String]): ImageReadOptions = {
    val options = parameters.map { case (k, v) => k.toLowerCase -> v }
    def get[T](name: String, default: T, what: String)(parse: String => Option[T]): T =
      options.get(name.toLowerCase).map(v =>
        parse(v.trim).getOrElse(throw new IllegalArgumentException(
            s"${ImageDataSource.Format}: option $name must be $what, got '$v'"))).getOrElse(default)
    val path = options.getOrElse("path",
      throw new IllegalArgumentException(
        s"${ImageDataSource.Format}: give one path: spark.read.format(\"${ImageDataSource.Format}\").load(path)"))
    ImageReadOptions(
      path = path,
      recursive = get("recursive", false, "true or false")(_.toBooleanOption),
      numPartitions = get("numPartitions", 0, "an integer >= 0")(_.toIntOption.filter(_ >= 0)),
      maxPixels = get("maxPixels", ImageDecoder.DefaultMaxPixels, "a positive integer")(_.toLongOption.filter(_ > 0)),
      draft = get("draftSize", (0, 0), "a positive size: 224, or height,width as 224,160")(draftSize),
      includeHidden = get("includeHidden", false, "true or false")(_.toBooleanOption),
      maxBytes = get("maxBytes", ImageReader.DefaultMaxBytes, s"an integer from 1 to ${Int.MaxValue - 8}")(
        _.toLongOption.filter(b => b > 0 && b <= Int.MaxValue - 8)),
      exifOrientation = get("applyExifOrientation", false, "true or false")(_.toBooleanOption))
  }

  /** `n` or `height,width`; one of height and width may be 0 (no constraint on that side). */
  private def draftSize(value: String): Option[(Int, Int)] =
    value.split(",").map(_.trim.toIntOption.filter(_ >= 0)) match {
      case Array(Some(n)) if n > 0 => Some((n, n))
      case Array(Some(h), Some(w)) if h > 0 || w > 0 => Some((h, w))
      case _ => None
    }
}

/** The files under one path as an image table; decodes only when `image` or `imageError` is read. */
private[image] class ImageRelation(spark: SparkSession, options: ImageReadOptions)
  extends BaseRelation with PrunedScan {

  private val files: Seq[String] =
    ImageReader.listFiles(new Path(options.path), spark.sparkContext.hadoopConfiguration, options.recursive,
      options.includeHidden)

  override def sqlContext: SQLContext = spark.sqlContext

  override def schema: StructType = ImageReader.schema

  override def buildScan(requiredColumns: Array[String]): RDD[Row] = {
    val sc = spark.sparkContext
    val parts =
      if (options.numPartitions > 0)
        math.max(1, math.min(options.numPartitions, files.size)) // a file a partition at most
      else math.max(
        1, math.min(files.size, math.max(sc.defaultParallelism, files.size / ImageRelation.FilesPerPartition + 1)))
    val conf = sc.broadcast(new SerializableHadoopConf(sc.hadoopConfiguration))
    val (maxPixels, draft, maxBytes, exif) = (options.maxPixels, options.draft, options.maxBytes,
      options.exifOrientation)
    val indices = requiredColumns.map(ImageReader.schema.fieldIndex)
    val decode = requiredColumns.exists(_ != ImageReader.FilePathCol)
    sc.parallelize(files, parts).mapPartitions { it =>
      it.map { file =>
        if (!decode) Row.fromSeq(indices.toSeq.map(_ => file))
        else {
          val row = ImageReader.readOne(file, conf.value.value, maxPixels, draft, maxBytes, exif)
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
