package sparkdl

import java.nio.file.{Files, Paths}
import java.util.ServiceLoader

import scala.jdk.CollectionConverters._

import org.scalatest.funsuite.AnyFunSuite

import sparkdl.image.ImageDataSource

/**
 * Every `META-INF/services` entry sparkdl ships can be instantiated by `ServiceLoader`: one bad
 * entry (a missing class, no public no-arg constructor) breaks the whole service in the JVM that
 * loads the jar (every data source lookup, every Spark Connect ML call), Spark's own
 * implementations included. ML stages also need the `(uid: String)` constructor Spark Connect
 * calls.
 */
class ServicesSuite extends AnyFunSuite {

  test("every services entry of the jar loads and has a public no-arg constructor") {
    val classes =
      Paths.get(classOf[ImageDataSource].getProtectionDomain.getCodeSource.getLocation.toURI)
    val services = classes.resolve("META-INF").resolve("services")
    val files = Files.list(services).iterator().asScala.toSeq
    assert(files.nonEmpty, s"no services files under $services")
    files.foreach { file =>
      val service = Class.forName(file.getFileName.toString)
      val entries =
        Files.readAllLines(file).asScala.map(_.trim).filter(l => l.nonEmpty && !l.startsWith("#"))
      entries.foreach { name =>
        val cls = Class.forName(name)
        assert(service.isAssignableFrom(cls), s"$name is not a ${service.getName}")
        assert(java.lang.reflect.Modifier.isPublic(cls.getConstructor().getModifiers),
          s"$name: no public no-arg constructor")
      }
      // as Spark looks providers up: by type, without
      // instantiating them (some of Spark's own cannot be)
      val loaded =
        ServiceLoader.load(service).stream().iterator().asScala.map(_.`type`().getName).toSet
      assert(
        entries.toSet.subsetOf(loaded),
        s"${service.getName}: ServiceLoader did not load ${entries.toSet -- loaded}")
    }
  }
}
