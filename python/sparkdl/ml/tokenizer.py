"""TextTokenizer: token ids from any Hugging Face ``tokenizer.json``, in the executor JVM."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, Optional, cast

from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._base import SparkdlJavaStage, SparkdlTransformer
from sparkdl.ml._shared import HasInputCol, HasOutputCol, accessors, int_at_least, one_of

if TYPE_CHECKING:
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession
    from typing_extensions import Self

__all__ = ["TextTokenizer", "local_tokenizer_file"]

PADDINGS = ("none", "max_length")


def local_tokenizer_file(path: str) -> Optional[str]:
    """The local ``tokenizer.json`` ``path`` names (the file, or a folder holding one), else None."""
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer.json")
    return path if os.path.isfile(path) else None


class TextTokenizer(SparkdlTransformer, SparkdlJavaStage, HasInputCol, HasOutputCol):
    """Token ids of a string column from any Hugging Face ``tokenizer.json`` (WordPiece, BPE,
    byte-level BPE, Unigram, with every normalizer, pre-tokenizer and post-processor), run by
    Hugging Face's own Rust library in the executor JVM: no Python worker.

    ``outputCol`` is ``struct<input_ids: array<bigint>, attention_mask: array<bigint>>``, equal to
    ``tokenizers.Tokenizer.from_file(f).encode(text)`` with truncation at ``maxLength`` (special
    tokens included) and no padding; ``padding="max_length"`` pads every text to ``maxLength``
    with the file's pad id. A null text gives null. The tokenizer file is saved with the stage.

    >>> tok = TextTokenizer(inputCol="text", outputCol="tokens", tokenizer="/models/mpnet")  # doctest: +SKIP
    """

    tokenizer = Param(Params._dummy(), "tokenizer",
                      "a Hugging Face tokenizer.json, or a folder holding one: a path on any Hadoop file system "
                      "(a local file on Spark Connect is uploaded); saved with the stage",
                      typeConverter=TypeConverters.toString)
    maxLength = Param(Params._dummy(), "maxLength",
                      "most token ids per text, special tokens included (0: the file's truncation length, else 512)",
                      typeConverter=int_at_least("maxLength", 0))
    padding = Param(Params._dummy(), "padding",
                    "none (each text its own length) or max_length (every text maxLength ids, attention_mask 0 "
                    "after the text)", typeConverter=one_of("padding", PADDINGS))

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, inputCol: str = "text", outputCol: Optional[str] = None, tokenizer: Optional[str] = None,
                 maxLength: int = 0, padding: str = "none") -> None:
        super(TextTokenizer, self).__init__()
        self._java_obj = self._new_stage()
        self._setDefault(inputCol="text", maxLength=0, padding="none")
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol: str = "text", outputCol: Optional[str] = None, tokenizer: Optional[str] = None,
                  maxLength: int = 0, padding: str = "none") -> Self:
        kwargs = dict(self._input_kwargs)
        if kwargs.get("tokenizer") is not None:
            self.setTokenizer(kwargs.pop("tokenizer"))
        return self._set(**kwargs)

    def setTokenizer(self, path: str) -> Self:
        """The ``tokenizer.json`` (or a folder holding one); on Spark Connect a local file is uploaded first."""
        local = local_tokenizer_file(path) if self._on_connect else None
        if local is not None:
            from sparkdl._session import active_session
            from sparkdl.graph.artifacts import upload_model_file

            path = upload_model_file(cast("ConnectSparkSession", active_session("setTokenizer")), local)
        return self._set(tokenizer=path)

    getTokenizer = accessors("tokenizer", str)[0]
    getMaxLength, setMaxLength = accessors("maxLength", int)
    getPadding, setPadding = accessors("padding", str)
