package sparkdl.ml

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.types.StructType

import sparkdl.inference.{BatchInference, BatchInput, BatchOutput, Model}

/** How every stage runs its model over a DataFrame: the batching core in each partition. */
private[ml] object BatchTransform {

  /** What an image stage's error about an image the model cannot take ends with. */
  val InvalidImageHint = ". Set handleInvalid to 'keep' (null output) or 'skip' (drop the row) to go on."

  /**
   * `df` with the outputs appended as `outSchema` says: `model` broadcast once, each input
   * fed from the column it names, `batchSize` rows per run.
   */
  def apply(df: DataFrame, outSchema: StructType, model: Model, inputs: Seq[BatchInput], outputs: Seq[BatchOutput],
            batchSize: Int, handleInvalid: String = "error", invalidHint: String = ""): DataFrame = {
    val spark = df.sparkSession
    val run = BatchInference(spark.sparkContext.broadcast(model), inputs, outputs, handleInvalid, invalidHint)
    val indices = inputs.map(in => df.schema.fieldIndex(in.column))
    spark.createDataFrame(df.rdd.mapPartitions(rows => run(rows, indices, batchSize)), outSchema)
  }
}
