package sparkdl.models

import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path => JPath}

import org.scalatest.funsuite.AnyFunSuite

import sparkdl.SparkSessionFixture

class ExportFolderSuite extends AnyFunSuite with SparkSessionFixture {

  private def writeExport(dir: JPath, name: String, json: String): Unit = {
    Files.createDirectories(dir.resolve(name))
    Files.write(dir.resolve(name).resolve(ExportFolder.Files.ModelJson), json.getBytes(UTF_8))
  }

  test("a model name is a folder's name, never a path") {
    for (bad <- Seq("", ".", "..", "../x", "/etc/x", "a\\b", "c:x")) {
      val e = intercept[IllegalArgumentException](ExportFolder.checkName(bad))
      assert(e.getMessage.contains("is not a model name"), bad)
    }
    ExportFolder.checkName("all-MiniLM-L6-v2")
  }

  test("did you mean: the one name a slip is closest to, else nothing") {
    val names = NamedImageModels.names
    assert(ExportFolder.didYouMean("resnet50", names) == " (did you mean 'ResNet50'?)")
    assert(ExportFolder.didYouMean("Incept", names) == " (did you mean 'InceptionV3'?)")
    assert(ExportFolder.didYouMean("VGG", names) == "") // a prefix of two names
    assert(ExportFolder.didYouMean("BERT", names) == "")
  }

  test(
    "an export is found in the stage's modelDir, else in " +
      "the conf's folder, else the error lists the places") {
    val stageDir = Files.createTempDirectory("given")
    val conf = Files.createTempDirectory("conf")
    writeExport(conf, "m", """{"modelName": "m"}""")
    assert(ExportFolder.resolve("m", Some(stageDir.toString), ExportFolder.CacheKey.Text) ==
      stageDir.toString)
    spark.conf.set(ExportFolder.Conf.ModelDir, conf.toString)
    spark.conf.set(ExportFolder.Conf.ModelCache, Files.createTempDirectory("cache").toString)
    try {
      assert(ExportFolder.resolve("m", None, ExportFolder.CacheKey.Text) == conf.toString)
      val e = intercept[IllegalArgumentException](ExportFolder.resolve("other", None,
          ExportFolder.CacheKey.Text))
      assert(e.getMessage.contains("No export of other") && e.getMessage.contains(conf.toString) &&
        e.getMessage.contains(ExportFolder.Conf.ModelDir))
    } finally {
      spark.conf.unset(ExportFolder.Conf.ModelDir)
      spark.conf.unset(ExportFolder.Conf.ModelCache)
    }
  }

  test("a folder without the model names the exports it holds; a damaged model.json is named") {
    val dir = Files.createTempDirectory("exports")
    writeExport(dir, "ResNet50", """{"modelName": "ResNet50"}""")
    val e =
      intercept[IllegalArgumentException](ExportFolder.metadata(dir.toString, "resnet50", spark))
    assert(e.getMessage.contains("it holds ResNet50 (did you mean 'ResNet50'?)"), e.getMessage)
    writeExport(dir, "Cut", """{"modelName": "Cu""")
    val (meta, _) = ExportFolder.metadata(dir.toString, "Cut", spark)
    val damaged =
      intercept[IllegalArgumentException](ExportFolder.readMetadata(meta, spark)(identity))
    assert(damaged.getMessage.contains(meta.toString) &&
      damaged.getMessage.contains("is not an export's model.json"))
  }

  test("a text export is not loaded as a named image model") {
    val dir = Files.createTempDirectory("kinds")
    writeExport(
      dir, "ResNet50",
      s"""{"modelName": "ResNet50", "${ExportFolder.Key.Kind}": "${ExportFolder.Kind.Text}"}""")
    val e =
      intercept[IllegalArgumentException](NamedImageModels.load("ResNet50", Some(dir.toString)))
    assert(
      e.getMessage.contains("the export of a text model, not of a named image model"), e.getMessage)
  }

  test("the contract names each value once within its group") {
    val groups = ExportFolder.contract.groupBy(_._1.takeWhile(_ != '.'))
    assert(groups.keySet == Set("Conf", "CacheKey", "Files", "Key", "Kind", "Engine"))
    groups.foreach { case (group, names) => assert(names.values.toSet.size == names.size, group) }
  }
}
