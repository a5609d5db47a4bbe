package sparkdl.ml

import org.apache.spark.broadcast.Broadcast
import org.apache.spark.sql.Row

import sparkdl.image.{ImageFields, ImageInputSpec, ImageToTensor}
import sparkdl.tf.{FrozenGraph, SessionCache}

/**
 * The executor side of an image model stage: streams one partition through the
 * graph in batches of `batchSize` rows. At most one batch of rows and one float
 * buffer are held at a time, whatever the partition size. Serializable and free of
 * the stage itself, so closures never capture the stage.
 *
 * Row policy: a null image gives a null output; an image the model cannot take
 * (no pixels, odd channel count) fails the task under `handleInvalid = "error"`,
 * gives a null output under "keep", and drops the row under "skip".
 */
final case class ImageBatchInference(
    graph: Broadcast[FrozenGraph],
    inputTensor: String,
    outputTensor: String,
    spec: ImageInputSpec,
    imageIndex: Int,
    inputCol: String,
    output: OutputFormat,
    batchSize: Int,
    handleInvalid: String) {

  def apply(rows: Iterator[Row]): Iterator[Row] =
    rows.grouped(batchSize).flatMap(batch => runBatch(batch))

  private def runBatch(batch: Seq[Row]): Seq[Row] = {
    val n = batch.size
    val outputs = new Array[Any](n)
    val keep = Array.fill(n)(true)
    val valid = new Array[Int](n)
    var nValid = 0
    var i = 0
    while (i < n) {
      val img = batch(i).getStruct(imageIndex)
      if (img != null) {
        val h = img.getInt(ImageFields.HeightIdx)
        val w = img.getInt(ImageFields.WidthIdx)
        val c = img.getInt(ImageFields.NChannelsIdx)
        val data = img.getAs[Array[Byte]](ImageFields.DataIdx)
        ImageToTensor.incompatibility(h, w, c, if (data == null) -1 else data.length, spec) match {
          case None =>
            valid(nValid) = i
            nValid += 1
          case Some(reason) => handleInvalid match {
            case "error" => throw new IllegalArgumentException(
              s"Column '$inputCol': image '${img.getString(ImageFields.OriginIdx)}' cannot feed the model " +
                s"(${spec.height}x${spec.width}x${spec.channels}): $reason. " +
                "Set handleInvalid to 'keep' (null output) or 'skip' (drop the row) to go on.")
            case "skip" => keep(i) = false
            case _ => // keep: null output
          }
        }
      }
      i += 1
    }
    if (nValid > 0) {
      val buffer = new Array[Float](nValid * spec.size)
      var j = 0
      while (j < nValid) {
        val img = batch(valid(j)).getStruct(imageIndex)
        ImageToTensor.write(img.getInt(ImageFields.HeightIdx), img.getInt(ImageFields.WidthIdx),
          img.getInt(ImageFields.NChannelsIdx), img.getAs[Array[Byte]](ImageFields.DataIdx),
          spec, buffer, j * spec.size)
        j += 1
      }
      val shape = Array[Long](nValid, spec.height, spec.width, spec.channels)
      val (outShape, out) =
        SessionCache.withSession(graph.value)(_.run(inputTensor, shape, buffer, Seq(outputTensor)).head)
      if (outShape.isEmpty || outShape(0) != nValid) {
        throw new IllegalStateException(
          s"Output '$outputTensor' has shape ${outShape.mkString("[", ",", "]")} for a batch of $nValid images; " +
            "its first dimension must be the batch")
      }
      val per = out.length / nValid
      j = 0
      while (j < nValid) {
        outputs(valid(j)) = output.cell(out, j * per, per)
        j += 1
      }
    }
    val result = Seq.newBuilder[Row]
    i = 0
    while (i < n) {
      if (keep(i)) result += Row.fromSeq(batch(i).toSeq :+ outputs(i))
      i += 1
    }
    result.result()
  }
}
