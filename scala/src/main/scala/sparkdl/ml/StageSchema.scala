package sparkdl.ml

import org.apache.spark.ml.param.{Param, Params}
import org.apache.spark.sql.types.{DataType, StructField, StructType}

import sparkdl.image.ImageFields

/**
 * The driver-side schema checks every stage's `transformSchema` makes, with one set of messages:
 * each names the column, what it must be and what it is.
 */
private[ml] object StageSchema {

  /** An input column and the types it accepts; `expected` completes "Input column 'c' ...". */
  final case class InputCheck(column: String, expected: String, accepts: DataType => Boolean)

  /** A column of images: Spark image structs or encoded files ([[ImageFields.isImageInput]]). */
  def imageInput(column: String): InputCheck =
    InputCheck(column, s"must be ${ImageFields.ImageInputTypes}", ImageFields.isImageInput)

  /** The value of `param`, or an error saying it is not set. */
  def required[T](stage: Params, param: Param[T]): T = {
    if (!stage.isDefined(param))
      throw new IllegalArgumentException(s"${stage.uid}: param '${param.name}' is not set")
    stage.getOrDefault(param)
  }

  /**
   * Checks every input and that no output exists yet; returns `schema` with the outputs appended
   * (nullable).
   */
  def validateAndTransformSchema(schema: StructType, inputs: Seq[InputCheck],
                                 outputs: Seq[(String, DataType)]): StructType = {
    inputs.foreach { in =>
      val field = schema.fields.find(_.name == in.column).getOrElse(
        throw new IllegalArgumentException(
          s"Input column '${in.column}' does not exist. Available " +
            s"columns: ${schema.fieldNames.mkString(", ")}"))
      if (!in.accepts(field.dataType)) {
        throw new IllegalArgumentException(
          s"Input column '${in.column}' ${in.expected} but is ${field.dataType.simpleString}")
      }
    }
    outputs.foreach { case (c, _) =>
      if (schema.fieldNames.contains(c))
        throw new IllegalArgumentException(s"Output column '$c' already exists")
    }
    StructType(schema.fields ++ outputs.map { case (c, t) => StructField(c, t, nullable = true) })
  }
}
