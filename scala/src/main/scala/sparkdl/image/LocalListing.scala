package sparkdl.image

import java.nio.file.{FileSystems, Files, LinkOption, Path => JPath}

import scala.collection.mutable.ArrayBuffer
import scala.jdk.CollectionConverters._
import scala.util.Using

import org.apache.hadoop.fs.Path

/**
 * `readImages`' listing of a local folder (`file:` paths), with Java's file API rather than
 * Hadoop's local file system, so that every name is a row: a broken link, a link to a special file,
 * a FIFO are listed (their row says why they are not read) where Hadoop's listing drops them
 * silently; a glob over a folder holding names with `:` works (Hadoop's glob builds a URI of each
 * name and fails). Same rules as the Hadoop listing otherwise: a path that exists is read
 * literally, else as a glob (`*`, `?`, `[...]`, `{a,b}`); dot-files only with `includeHidden`; each
 * real directory visited once.
 */
private[image] object LocalListing {

  private val GlobChars = "*?[{"

  def listFiles(path: JPath, shown: String, recursive: Boolean, includeHidden: Boolean)
      : Seq[String] = {
    val matched =
      if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) Seq(path)
      else glob(path)
    if (matched.isEmpty)
      throw new IllegalArgumentException(s"readImages: path does not exist: $shown")
    def hidden(p: JPath): Boolean = !includeHidden && p.getFileName.toString.startsWith(".")
    val visited = scala.collection.mutable.HashSet.empty[String]
    def firstVisit(dir: JPath): Boolean =
      visited.add(try dir.toRealPath().toString
        catch { case _: java.io.IOException => dir.toString })
    val out = ArrayBuffer.empty[String]
    val notEntered = ArrayBuffer.empty[String]
    def visit(p: JPath, top: Boolean): Unit =
      if (Files.isDirectory(p)) { // follows links: a link to a folder is a folder
        if ((top || recursive) && firstVisit(p)) {
          // unreadable folder: nothing in it is listed
          val children = try Using.resource(Files.list(p))(_.iterator.asScala.toVector)
          catch { case _: java.io.IOException => Vector.empty }
          children.filterNot(hidden).sortBy(_.getFileName.toString).foreach(visit(_, top = false))
        } else if (!top && !recursive) notEntered += p.getFileName.toString
      } else if (top || !hidden(p)) {
        // Hadoop's form of the name (file:/a/12:30.jpg), read by readOne
        out += new Path(p.toUri).toString
      }
    matched.foreach(visit(_, top = true))
    ImageReader.onlyFolders(shown, out.isEmpty, notEntered.toSeq)
    out.sorted.toSeq
  }

  /** The paths matching `pattern` (its components with glob characters matched one level each). */
  private def glob(pattern: JPath): Seq[JPath] = {
    val parts = pattern.iterator.asScala.map(_.toString).toVector
    val first = parts.indexWhere(_.exists(c => GlobChars.contains(c)))
    if (first < 0) return Nil
    val base = parts.take(first).foldLeft(pattern.getRoot)((dir, part) => dir.resolve(part))
    val matcher = FileSystems.getDefault.getPathMatcher("glob:" + pattern.toString)
    if (!Files.isDirectory(base)) Nil
    else Using.resource(Files.find(base, parts.length - first,
        (p, _) =>
          p.getNameCount == pattern.getNameCount && matcher.matches(p)))(
      _.iterator.asScala.toVector.sortBy(_.toString))
  }
}
