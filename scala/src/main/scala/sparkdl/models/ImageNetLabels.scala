package sparkdl.models

import scala.io.Source

/**
 * The 1000 ImageNet classes in Keras' order: WordNet id (`n02124075`) and description (`Egyptian
 * cat`). Shipped in the jar (`sparkdl/models/imagenet_classes.tsv`), so decoding needs no download.
 */
final class ImageNetLabels private (val ids: IndexedSeq[String],
                                    val descriptions: IndexedSeq[String])
  extends Serializable

object ImageNetLabels {
  private val Resource = "/sparkdl/models/imagenet_classes.tsv"

  lazy val imagenet1k: ImageNetLabels = {
    val in = getClass.getResourceAsStream(Resource)
    require(in != null, s"$Resource is missing from the sparkdl jar")
    val src = Source.fromInputStream(in, "UTF-8")
    val rows = try src.getLines().filter(_.nonEmpty).map(_.split("\t", 2)).toArray
    finally src.close()
    require(rows.length == 1000 && rows.forall(_.length == 2),
      s"$Resource must hold 1000 'wnid<TAB>description' lines")
    new ImageNetLabels(rows.map(_(0)).toIndexedSeq, rows.map(_(1)).toIndexedSeq)
  }
}
