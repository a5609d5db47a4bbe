package sparkdl.onnx

import java.io.File
import java.nio.file.Files

import org.json4s.{DefaultFormats, Formats}
import org.json4s.jackson.JsonMethods.parse
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.SparkSessionFixture
import sparkdl.inference.{Feed, ModelException, SessionCache}

/**
 * ONNX Runtime from the JVM on models written by Python's `onnx` (`make test-scala` writes the
 * fixtures): a run equals ONNX Runtime Python's on the same input; the operator-domain check.
 */
class OnnxSuite extends AnyFunSuite with SparkSessionFixture {

  private lazy val dir: File = {
    val f = new File(System.getProperty("sparkdl.test.fixtures", "target/scala-fixtures"), "onnx")
    assert(new File(f, "expected.json").isFile, "run `make test-scala` to write the fixtures")
    f
  }

  private def file(name: String): String = new File(dir, name).getAbsolutePath

  override def beforeAll(): Unit = {
    super.beforeAll()
    spark // the session model files are read with
  }

  test("a model file's inputs and outputs are the model's; a run equals ONNX Runtime Python's") {
    implicit val formats: Formats = DefaultFormats
    val expected =
      parse(new String(Files.readAllBytes(new File(dir, "expected.json").toPath), "UTF-8"))
    val x = (expected \ "x").extract[Seq[Seq[Float]]]
    val model = OnnxFiles.model(file("mlp.onnx"))
    assert(model.inputs == Seq("x") && model.outputs == Seq("y", "s"))
    assert(model.inputInfo("x").shapeString == "[?,4]" && model.outputInfo("s").dtype == "float")
    val Seq((yShape, y), (sShape, s)) = SessionCache.withSession(model)(
      _.run(Seq(Feed("x", Array(x.size.toLong, 4L), x.flatten.toArray)), Seq("y", "s")))
    assert(yShape.toSeq == Seq(3L, 3L) && sShape.toSeq == Seq(3L))
    y.zip((expected \ "y").extract[Seq[Seq[Float]]].flatten).foreach { case (a, b) =>
      assert(math.abs(a - b) <= 1e-5)
    }
    s.zip((expected \ "s").extract[Seq[Float]]).foreach { case (a, b) =>
      assert(math.abs(a - b) <= 1e-5)
    }
    val e = intercept[ModelException](model.inputInfo("nope"))
    assert(e.getMessage.contains("Its inputs are: x float [?,4]"))
  }

  test(
    "operator domains: standard and model-local ones pass, " +
      "a custom one is refused unless the conf allows it") {
    val local = Files.readAllBytes(new File(dir, "local_functions.onnx").toPath)
    assert(OnnxDomains.of(local) == Seq("")) // pkg.local is defined by the model's own functions
    OnnxDomains.check(local, "local")
    val custom = Files.readAllBytes(new File(dir, "custom_domain.onnx").toPath)
    assert(OnnxDomains.of(custom).sorted == Seq("", "com.example.native"))
    val e = intercept[ModelException](OnnxDomains.check(custom, "The custom model"))
    assert(e.getMessage.contains("(com.example.native)") &&
      e.getMessage.contains(OnnxDomains.AllowDomainsConf))
    spark.conf.set(OnnxDomains.AllowDomainsConf, "com.example.native")
    try OnnxDomains.check(custom, "The custom model")
    finally spark.conf.unset(OnnxDomains.AllowDomainsConf)
  }

  test("a file that is not an ONNX model is refused, naming it") {
    val f = Files.createTempFile("not-a-model", ".onnx")
    Files.write(f, "{\"inputs\": []}".getBytes("UTF-8"))
    val e = intercept[IllegalArgumentException](OnnxFiles.read(f.toString))
    assert(e.getMessage.contains(f.getFileName.toString) &&
      e.getMessage.contains("is not an ONNX model"))
  }
}
