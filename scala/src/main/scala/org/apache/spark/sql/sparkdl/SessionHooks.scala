package org.apache.spark.sql.sparkdl

import org.apache.spark.sql.{Column, SparkSession}
import org.apache.spark.sql.catalyst.FunctionIdentifier
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry.FunctionBuilder
import org.apache.spark.sql.catalyst.expressions.{Expression, ExpressionInfo}
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan
import org.apache.spark.sql.catalyst.rules.Rule
import org.apache.spark.sql.classic
import org.apache.spark.sql.classic.ExpressionUtils
import org.apache.spark.sql.execution.SparkStrategy

/**
 * The few session internals sparkdl touches (Spark keeps them `private[sql]`): Catalyst expressions
 * as Columns, the function registry, and planning added to a running session.
 */
object SessionHooks {

  def column(expr: Expression): Column = ExpressionUtils.column(expr)

  def expression(column: Column): Expression = ExpressionUtils.expression(column)

  private def classicSession(spark: SparkSession): classic.SparkSession = spark match {
    case s: classic.SparkSession => s
    case other => throw new IllegalArgumentException(
        s"sparkdl runs in a classic Spark session, not ${other.getClass}")
  }

  /**
   * The session's id, which names the folder of its Spark Connect artifacts under `SparkFiles`'
   * root.
   */
  def sessionUUID(spark: SparkSession): String = classicSession(spark).sessionUUID

  /** Whether `name` is a built-in function of the session (one an extension added included). */
  def functionExists(spark: SparkSession, name: String): Boolean =
    classicSession(spark).sessionState.functionRegistry.functionExists(
      FunctionRegistry.builtinFunctionIdentifier(name))

  /** Adds a built-in function to the session, as an extension's `injectFunction` does. */
  def registerFunction(spark: SparkSession, id: FunctionIdentifier, info: ExpressionInfo,
                       builder: FunctionBuilder): Unit =
    classicSession(spark).sessionState.functionRegistry.registerFunction(
      FunctionRegistry.builtinFunctionIdentifier(id.funcName), info, builder)

  /** A temporary function of the session, as `spark.udf.register` makes one. */
  def registerTempFunction(spark: SparkSession, name: String, builder: FunctionBuilder): Unit =
    classicSession(spark).sessionState.functionRegistry.createOrReplaceTempFunction(
      name, builder, "scala_udf")

  /**
   * Adds `rule` and `strategy` to a running session that lacks them (one started before sparkdl's
   * jar was on the classpath, so its extensions were not found). Returns whether it added them.
   */
  def addPlanning(spark: SparkSession, rule: Rule[LogicalPlan], strategy: SparkStrategy): Boolean =
    synchronized {
      val s = classicSession(spark)
      if (s.sessionState.planner.strategies.contains(strategy)) false
      else {
        s.experimental.extraOptimizations = s.experimental.extraOptimizations :+ rule
        s.experimental.extraStrategies = s.experimental.extraStrategies :+ strategy
        true
      }
    }
}
