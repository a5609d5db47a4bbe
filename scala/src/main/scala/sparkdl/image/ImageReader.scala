package sparkdl.image

import scala.collection.mutable.ArrayBuffer

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileStatus, Path}
import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.types.{StringType, StructField, StructType}

import sparkdl.io.HadoopFiles

/**
 * Reads image files into a DataFrame of `filePath: string, image: <Spark image struct>, imageError:
 * string`. Every file listed gives exactly one row (empty files included): a file that cannot be
 * read or decoded has a null `image` and the reason in `imageError`. Files are listed on the driver
 * and read and decoded on executors, by the image data source ([[ImageDataSource]]).
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
   * The image data source ([[ImageDataSource]], format `sparkdl.image`) with these options.
   *
   * @param path
   *   a file, a directory or a glob (any Hadoop file system)
   * @param recursive
   *   also read sub-directories
   * @param numPartitions
   *   partitions of the result (<= 0: about one per 1,000 files, at least the default parallelism)
   * @param maxPixels
   *   images declaring more pixels are not decoded (null + reason)
   * @param maxBytes
   *   files larger than this are not read (null + reason; default 512 MiB)
   * @param applyExifOrientation
   *   turn JPEGs upright as their EXIF orientation says (default false: the pixels as stored, as
   *   Keras and Pillow load them)
   * @param draftHeight
   *   with `draftWidth`: decode each JPEG directly at the smallest DCT scale (1/2, 1/4, 1/8) that
   *   keeps it at least `draftHeight` x `draftWidth` ([[ImageDecoder.decode]]'s `draft`); the
   *   `image` column then holds that smaller image. For models that resize to a small input anyway:
   *   faster decoding and smaller rows (docs/PERFORMANCE.md). Both 0 (default): full size.
   * @param includeHidden
   *   also list dot-files and dot-folders (`.x`, macOS `._x`)
   */
  def readImages(spark: SparkSession, path: String, recursive: Boolean = false,
                 numPartitions: Int = 0, maxPixels: Long = ImageDecoder.DefaultMaxPixels,
                 draftHeight: Int = 0, draftWidth: Int = 0, includeHidden: Boolean = false,
                 maxBytes: Long = DefaultMaxBytes, applyExifOrientation: Boolean = false)
      : DataFrame = {
    require(draftHeight >= 0 && draftWidth >= 0,
      s"readImages: draft size must not be negative, got ${draftHeight}x$draftWidth")
    val reader = spark.read.format(ImageDataSource.Format).option("recursive", recursive)
      .option("numPartitions", math.max(numPartitions, 0).toLong).option("maxPixels", maxPixels)
      .option("includeHidden", includeHidden).option("maxBytes", maxBytes)
      .option("applyExifOrientation", applyExifOrientation)
    val withDraft =
      if (draftHeight > 0 || draftWidth > 0) reader.option("draftSize", s"$draftHeight,$draftWidth")
      else reader
    withDraft.load(path)
  }

  /** Bytes of image files this JVM has read (tests check that pruned queries read none). */
  val bytesRead = new java.util.concurrent.atomic.AtomicLong

  /** Files larger than this are not read (null + reason); the `maxBytes` option. */
  val DefaultMaxBytes: Long = 512L << 20

  /** How much of a larger file is read first, to recognise its format from the header alone. */
  val HeaderBytes: Int = 64 * 1024

  /**
   * The file's bytes, or why it is not read. A file larger than [[HeaderBytes]] is read in two
   * steps of one pass: its first bytes, which must be those of an image format the decoder knows
   * and declare at most `maxPixels`, then the rest if the file is at most `maxBytes` long. So a
   * video or an archive in an image folder costs 64 KiB of reading, never its size in memory.
   */
  def readFile(file: String, conf: Configuration, maxPixels: Long,
               maxBytes: Long = DefaultMaxBytes): Either[String, Array[Byte]] =
    try {
      val path = HadoopFiles.pathOf(file)
      notRegular(path) match {
        case Some(reason) => Left(reason)
        case None =>
          // Hadoop's checksummed local FS chokes on ':' in names
          val local = path.toUri.getScheme == "file"
          val (length, in) =
            if (local) {
              val p = java.nio.file.Paths.get(path.toUri)
              (java.nio.file.Files.size(p), java.nio.file.Files.newInputStream(p))
            } else {
              val fs = path.getFileSystem(conf)
              (fs.getFileStatus(path).getLen, fs.open(path): java.io.InputStream)
            }
          try {
            // one open, one pass: the header first, the rest only if the header passes
            val header = in.readNBytes(math.min(length, HeaderBytes.toLong).toInt)
            bytesRead.addAndGet(header.length.toLong)
            val refused =
              if (length <= HeaderBytes) None
              else {
                ImageDecoder.checkHeader(header, maxPixels).map(reason =>
                  s"$reason (read the first ${HeaderBytes / 1024} KiB of $length bytes)").orElse {
                  if (length <= maxBytes) None
                  else Some(
                    s"file is $length bytes, more than maxBytes=$maxBytes: not read (raise the " +
                      "maxBytes option of readImages to read it)")
                }
              }
            refused.map(Left(_)).getOrElse {
              if (header.length < HeaderBytes) Right(header) // the whole file
              else {
                val bytes = java.util.Arrays.copyOf(header, length.toInt)
                val rest = in.readNBytes(bytes, header.length, bytes.length - header.length)
                bytesRead.addAndGet(rest.toLong)
                Right(if (rest == bytes.length - header.length) bytes
                  else java.util.Arrays.copyOf(bytes, header.length + rest)) // shorter than listed
              }
            }
          } finally in.close()
      }
    } catch {
      case e: IllegalArgumentException => Left(s"cannot read file (${e.getMessage})")
      // a missing file system (s3a:// without its jar),
      // no credentials, a bad URI: this row, not the job
      case scala.util.control.NonFatal(e) =>
        Left(s"cannot read file (${e.getClass.getSimpleName}: ${e.getMessage})")
    }

  /**
   * Why a local path is not read: a FIFO, a device or a socket (reading could block or never end).
   */
  private def notRegular(path: Path): Option[String] =
    if (path.toUri.getScheme != "file") None
    else {
      val local = java.nio.file.Paths.get(path.toUri)
      if (java.nio.file.Files.isRegularFile(local)) None
      else if (java.nio.file.Files.isDirectory(local)) Some("is a directory")
      else if (!java.nio.file.Files.exists(local)) Some("file does not exist (or is a broken link)")
      else Some("not a regular file (a FIFO, device or socket): not read")
    }

  /** One file read and decoded with the data source's options, or why not. */
  private[image] def decodeFile(file: String, conf: Configuration, options: ImageReadOptions)
      : Either[String, DecodedImage] =
    readFile(file, conf, options.maxPixels, options.maxBytes)
      .flatMap(b =>
        ImageDecoder.decode(b, options.maxPixels, options.draft, options.exifOrientation))

  private[image] def readOne(file: String, conf: Configuration, options: ImageReadOptions): Row =
    decodeFile(file, conf, options) match {
      case Right(img) =>
        Row(file, ImageFields.row(file, img.height, img.width, img.nChannels, img.data),
          img.note.orNull)
      case Left(reason) => Row(file, null, reason)
    }

  /**
   * Qualified paths of the files at `path`, sorted. `path` is read literally when it exists (a
   * folder named `photos[2024]`), else as a glob. Dot-files and dot-folders (`.x`, macOS `._x`) are
   * skipped unless `includeHidden`; `_`-prefixed names (camera files such as `_MG_0002.JPG`) are
   * listed. With `recursive`, each real directory is visited once (symlink loops end).
   */
  private[image] def listFiles(path: Path, conf: Configuration, recursive: Boolean,
                               includeHidden: Boolean = false): Seq[String] =
    if (path.toUri.getScheme == null && path.getFileSystem(conf).getUri.getScheme == "file" ||
        path.toUri.getScheme == "file") {
      LocalListing.listFiles(
        java.nio.file.Paths.get(path.makeQualified(path.getFileSystem(conf).getUri,
            path.getFileSystem(conf).getWorkingDirectory).toUri), path.toString, recursive,
        includeHidden)
    } else listWithHadoop(path, conf, recursive, includeHidden)

  private def listWithHadoop(path: Path, conf: Configuration, recursive: Boolean,
                             includeHidden: Boolean): Seq[String] = {
    val fs = path.getFileSystem(conf)
    val matched: Array[FileStatus] =
      if (fs.exists(path)) Array(fs.getFileStatus(path))
      else Option(fs.globStatus(path)).getOrElse(Array.empty)
    if (matched.isEmpty) {
      throw new IllegalArgumentException(s"readImages: path does not exist: $path")
    }
    def hidden(p: Path): Boolean = !includeHidden && p.getName.startsWith(".")
    val visited = scala.collection.mutable.HashSet.empty[String]
    def firstVisit(dir: Path): Boolean = {
      val key =
        if (dir.toUri.getScheme == "file") {
          try java.nio.file.Paths.get(dir.toUri).toRealPath().toString
          catch { case _: java.io.IOException => dir.toString }
        } else dir.toString
      visited.add(key)
    }
    val out = ArrayBuffer.empty[String]
    val notEntered = ArrayBuffer.empty[String]
    def visit(status: FileStatus, top: Boolean): Unit = {
      if (status.isDirectory) {
        if ((top || recursive) && firstVisit(status.getPath))
          fs.listStatus(status.getPath).filterNot(s => hidden(s.getPath))
            .foreach(visit(_, top = false))
        else if (!top && !recursive) notEntered += status.getPath.getName
      } else if (top || !hidden(status.getPath)) {
        out += status.getPath.makeQualified(fs.getUri, fs.getWorkingDirectory).toString
      }
    }
    matched.foreach(visit(_, top = true))
    onlyFolders(path.toString, out.isEmpty, notEntered.toSeq)
    out.sorted.toSeq
  }

  /** The error for a path whose files are all in sub-folders not entered (no `recursive`). */
  private[image] def onlyFolders(path: String, noFiles: Boolean, notEntered: Seq[String]): Unit =
    if (noFiles && notEntered.nonEmpty) {
      val names = notEntered.sorted.distinct
      throw new IllegalArgumentException(
        s"readImages: $path holds no files, only folders (${names.take(5).mkString(", ")}" +
          s"${if (names.size > 5) ", ..." else ""}): read the images in them with recursive=True " +
          "(option recursive=true)")
    }
}
