package sparkdl.inference

/**
 * What the driver knows about a tensor of a model: its name, dtype and static shape (`-1` marks an
 * unknown dimension; `None` an unknown rank).
 */
final case class TensorInfo(name: String, dtype: String, shape: Option[Seq[Long]]) {
  def shapeString: String =
    shape.map(_.map(d => if (d < 0) "?" else d.toString).mkString("[", ",", "]"))
      .getOrElse("<unknown rank>")
  override def toString: String = s"$name $dtype $shapeString"
}
