package sparkdl.sql

import org.apache.spark.sql.{SparkSession, SparkSessionExtensions, SparkSessionExtensionsProvider}
import org.apache.spark.sql.sparkdl.SessionHooks

/**
 * Adds sparkdl's SQL functions ([[ModelFunctions]]) and their batched evaluation
 * ([[ExtractModelCalls]], [[ModelEvalExec]]) to every SparkSession created while the jar is on the
 * driver's classpath: Spark finds this class through `META-INF/services` (or name it in
 * `spark.sql.extensions`). A Spark Connect server must have the jar at start (`--jars`).
 */
class SparkdlExtensions extends SparkSessionExtensionsProvider {
  override def apply(extensions: SparkSessionExtensions): Unit = {
    ModelFunctions.all.foreach(extensions.injectFunction)
    extensions.injectPreCBORule(_ => ExtractModelCalls)
    extensions.injectPlannerStrategy(_ => ModelEvalStrategy)
  }
}

object SparkdlExtensions {

  /**
   * Makes sure `spark` has what [[SparkdlExtensions]] adds, for a session started before the jar
   * was on its classpath (a notebook's session with the jar attached later): the functions go into
   * its registry and the planning into its `experimental` rules and strategies. A no-op for
   * sessions that have them. Every stage's `transform` calls this.
   */
  def install(spark: SparkSession): Unit = {
    if (!SessionHooks.functionExists(spark, ModelFunctions.Predict)) {
      ModelFunctions.all.foreach { case (id, info, builder) =>
        SessionHooks.registerFunction(spark, id, info, builder)
      }
    }
    SessionHooks.addPlanning(spark, ExtractModelCalls, ModelEvalStrategy)
  }
}
