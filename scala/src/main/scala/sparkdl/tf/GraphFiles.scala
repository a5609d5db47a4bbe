package sparkdl.tf

import org.apache.hadoop.fs.Path
import org.apache.spark.sql.SparkSession
import org.json4s.{DefaultFormats, Formats, JArray, JObject, JString}
import org.json4s.jackson.JsonMethods.{compact, parse, render}

import sparkdl.io.{FileCache, HadoopFiles}

/**
 * Frozen graphs stored as files: `graph.pb` (GraphDef bytes) with its tensor names in a JSON file
 * beside it (`graph.json`: `{"inputs": [...], "outputs": [...]}`), as Python's `FrozenGraph.save`
 * writes them. A file is named by a Spark Connect artifact name (a file the client uploaded with
 * `spark.addArtifacts(..., file=True)`) or a path on any Hadoop file system. Read once per driver
 * JVM while the file is unchanged ([[FileCache]]), so the stage instances a Spark Connect server
 * creates for every plan do not read it again.
 */
object GraphFiles {

  private val cache = new FileCache[FrozenGraph]

  private val registered = new java.util.concurrent.ConcurrentHashMap[String, FrozenGraph]()

  /**
   * Makes `graph` loadable by `name` in this JVM without a file (what a classic Python session
   * registers for its SQL functions; a Spark Connect client uploads an artifact of the same name).
   */
  def register(name: String, graph: FrozenGraph): Unit = registered.put(name, graph)

  /** The graph registered, or at `pathOrArtifact`, or an error saying where it was looked for. */
  def load(pathOrArtifact: String): FrozenGraph =
    Option(registered.get(pathOrArtifact)).getOrElse(loadFile(pathOrArtifact))

  private def loadFile(pathOrArtifact: String): FrozenGraph =
    cache.getOrLoadFile("graphPath", pathOrArtifact) { (fs, path, conf) =>
      val names = new Path(path.getParent, path.getName.stripSuffix(".pb") + ".json")
      val (inputs, outputs) =
        if (!fs.isFile(names)) (Seq.empty[String], Seq.empty[String])
        else {
          implicit val formats: Formats = DefaultFormats
          val text = new String(HadoopFiles.read(names, conf), "UTF-8")
          try {
            val json = parse(text)
            def listed(key: String) = json \ key match {
              case org.json4s.JArray(values) => values.map(_.extract[String])
              case _ => throw new IllegalArgumentException(s"\"$key\" is missing or not a list")
            }
            (listed("inputs"), listed("outputs"))
          } catch {
            case e: Exception => // Jackson's parse errors are IOExceptions too
              val firstLine =
                Option(e.getMessage).getOrElse(e.toString).linesIterator.nextOption().getOrElse("")
              throw new GraphException(
                s"$names is not a graph's tensor names (a JSON object with \"inputs\" and " +
                  "\"outputs\", lists of tensor names such as \"input:0\", as FrozenGraph.save " +
                  s"writes it): $firstLine",
                e)
          }
        }
      FrozenGraph(HadoopFiles.read(path, conf), inputs, outputs)
    }

  /** Writes `graph.json` (the tensor names, as Python's `FrozenGraph.save` does) at `path`. */
  def writeNames(graph: FrozenGraph, path: Path, spark: SparkSession): Unit = {
    val json = JObject("inputs" -> JArray(graph.inputs.map(JString(_)).toList),
      "outputs" -> JArray(graph.outputs.map(JString(_)).toList), "sha256" -> JString(graph.hash))
    HadoopFiles.write(compact(render(json)).getBytes("UTF-8"), path, spark)
  }
}
