package org.apache.spark.sparkdl

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
   * ones; progress goes to stderr, as spark-submit's.
   */
  def resolve(coordinates: String, repositories: String): java.util.List[String] = {
    implicit val out: java.io.PrintStream = System.err
    val conf = SparkContext.getActive.map(_.getConf)
    val repos = Option(repositories).filter(_.nonEmpty)
    val ivyPath = conf.flatMap(_.getOption("spark.jars.ivy"))
    val settings = conf.flatMap(_.getOption("spark.jars.ivySettings")) match {
      case Some(file) => MavenUtils.loadIvySettings(file, repos, ivyPath)
      case None => MavenUtils.buildIvySettings(repos, ivyPath)
    }
    MavenUtils.resolveMavenCoordinates(coordinates, settings, transitive = true).asJava
  }
}
