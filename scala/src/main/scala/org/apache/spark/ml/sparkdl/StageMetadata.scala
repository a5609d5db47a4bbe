package org.apache.spark.ml.sparkdl

import org.apache.spark.ml.param.{ParamPair, Params}
import org.apache.spark.ml.util.{DefaultParamsReader, DefaultParamsWriter}
import org.apache.spark.sql.SparkSession
import org.json4s.{JObject, JValue}
import org.json4s.jackson.JsonMethods.parse

/**
 * The one place sparkdl touches Spark ML's package-private persistence helpers: stage metadata
 * (class, uid, params as JSON) is written and read exactly as Spark's own stages do, so
 * `Pipeline.load` and PySpark's loader understand it.
 */
object StageMetadata {

  /** Saves `instance`'s metadata, leaving out the params named in `exclude` (stored elsewhere). */
  def save(instance: Params, path: String, spark: SparkSession,
           exclude: Set[String], extra: Option[JObject] = None): Unit = {
    val kept: Seq[ParamPair[_]] = instance.extractParamMap().toSeq
      .filter(pp => instance.isSet(pp.param) && !exclude.contains(pp.param.name))
    // each param's own JSON encoding (Param.jsonEncode), as Spark's DefaultParamsWriter stores it
    val json: JValue = JObject(kept.map { case ParamPair(p, v) =>
      p.name -> parse(p.asInstanceOf[org.apache.spark.ml.param.Param[Any]].jsonEncode(v))
    }.toList)
    DefaultParamsWriter.saveMetadata(instance, path, spark, extra, Some(json))
  }

  /**
   * Reads the metadata at `path`, checks the class name and sets every stored param on `make(uid)`,
   * skipping `exclude`. Returns the stage and the whole metadata JSON.
   */
  def load[T <: Params](path: String, spark: SparkSession, className: String,
                        make: String => T, exclude: Set[String]): (T, JValue) = {
    val md = DefaultParamsReader.loadMetadata(path, spark, className)
    val instance = make(md.uid)
    val skip = instance.params.map(_.name).filter(exclude.contains).toList
    md.getAndSetParams(instance, Some(skip))
    (instance, md.metadata)
  }
}
