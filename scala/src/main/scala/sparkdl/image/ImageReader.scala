package sparkdl.image

import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.types.{StringType, StructField, StructType}

/**
 * Reads image files into a DataFrame of `filePath: string, image: <Spark image struct>,
 * imageError: string`. A file that cannot be decoded keeps its row: `image` is null and
 * `imageError` says why. Decoding happens on the executors.
 */
object ImageReader {

  val FilePathCol = "filePath"
  val ImageCol = "image"
  val ErrorCol = "imageError"

  val schema: StructType = StructType(Seq(
    StructField(FilePathCol, StringType, nullable = false),
    StructField(ImageCol, ImageFields.schema, nullable = true),
    StructField(ErrorCol, StringType, nullable = true)))

  /**
   * @param path          a file, a directory or a glob (any Hadoop file system)
   * @param recursive     also read sub-directories
   * @param numPartitions repartition the files to this many partitions (<= 0: leave as listed)
   * @param maxPixels     images declaring more pixels are not decoded (null + reason)
   */
  def readImages(spark: SparkSession, path: String, recursive: Boolean,
                 numPartitions: Int, maxPixels: Long): DataFrame = {
    val files = spark.read.format("binaryFile")
      .option("recursiveFileLookup", recursive.toString)
      .load(path)
      .select("path", "content")
    val parts = if (numPartitions > 0) files.repartition(numPartitions) else files
    val limit = maxPixels
    val rows = parts.rdd.mapPartitions { it =>
      it.map { r =>
        val origin = r.getString(0)
        ImageDecoder.decode(r.getAs[Array[Byte]](1), limit) match {
          case Right(img) => Row(origin, ImageFields.row(origin, img.height, img.width, img.nChannels, img.data), null)
          case Left(reason) => Row(origin, null, reason)
        }
      }
    }
    spark.createDataFrame(rows, schema)
  }

  def readImages(spark: SparkSession, path: String, recursive: Boolean, numPartitions: Int): DataFrame =
    readImages(spark, path, recursive, numPartitions, ImageDecoder.DefaultMaxPixels)

  def readImages(spark: SparkSession, path: String): DataFrame =
    readImages(spark, path, recursive = false, numPartitions = 0)
}
