package org.apache.spark.sparkdl

import java.io.{ByteArrayOutputStream, PrintStream}
import java.nio.charset.StandardCharsets

import scala.jdk.CollectionConverters._

import org.apache.spark.SparkContext
import org.apache.spark.util.MavenUtils

/**
 * Resolves Maven coordinates exactly as `spark.jars.packages` does at application start (Spark's
 * Ivy, its settings and cache: `spark.jars.ivy`, `spark.jars.ivySettings`), for a session that
 * started without sparkdl: the Python package attaches the jars returned to the running driver and
 * its executors. In Spark's package because Spark keeps its Ivy helpers to itself.
 */
object PackageResolver {

  /**
   * Local paths of the jars of `coordinates` (comma-separated `group:artifact:version`) and of
   * their dependencies, looked up in `repositories` (comma-separated URLs) after Spark's default
   * ones. Ivy's report (its settings, every module, the retrieval: 30-60 lines) goes to stderr, as
   * spark-submit's, only when `verbose`; otherwise it is kept, and its last lines end the error
   * message when the resolution fails.
   */
  def resolve(coordinates: String, repositories: String, verbose: Boolean)
      : java.util.List[String] = {
    val buffer = new ByteArrayOutputStream()
    implicit val out: PrintStream =
      if (verbose) System.err else new PrintStream(buffer, true, StandardCharsets.UTF_8.name())
    val conf = SparkContext.getActive.map(_.getConf)
    val repos = Option(repositories).filter(_.nonEmpty)
    val ivyPath = conf.flatMap(_.getOption("spark.jars.ivy"))
    try {
      val settings = conf.flatMap(_.getOption("spark.jars.ivySettings")) match {
        case Some(file) => MavenUtils.loadIvySettings(file, repos, ivyPath)
        case None => MavenUtils.buildIvySettings(repos, ivyPath)
      }
      MavenUtils.resolveMavenCoordinates(coordinates, settings, transitive = true).asJava
    } catch {
      case e: Exception if !verbose =>
        val report =
          buffer.toString(StandardCharsets.UTF_8.name()).linesIterator.toSeq.takeRight(15)
        throw new RuntimeException(s"${e.getMessage}; Ivy said:\n${report.mkString("\n")}", e)
    }
  }
}
