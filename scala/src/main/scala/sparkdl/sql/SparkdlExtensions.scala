package sparkdl.sql

import org.apache.spark.sql.{SparkSessionExtensions, SparkSessionExtensionsProvider}

/**
 * Adds sparkdl's SQL functions ([[ModelFunctions]]) and their batched evaluation
 * ([[ExtractModelCalls]], [[ModelEvalExec]]) to every SparkSession created while the jar is on
 * the driver's classpath: Spark finds this class through `META-INF/services` (or name it in
 * `spark.sql.extensions`). A Spark Connect server must have the jar at start (`--jars`).
 */
class SparkdlExtensions extends SparkSessionExtensionsProvider {
  override def apply(extensions: SparkSessionExtensions): Unit = {
    ModelFunctions.all.foreach(extensions.injectFunction)
    extensions.injectPreCBORule(_ => ExtractModelCalls)
    extensions.injectPlannerStrategy(_ => ModelEvalStrategy)
  }
}
