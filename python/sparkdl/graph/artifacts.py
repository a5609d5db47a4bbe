"""Frozen graphs and named-model exports as Spark Connect artifacts: what a client uploads so
the server's stages can read them (``graphPath``, ``modelDir``), named by content so each
travels once per session."""
from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Callable, List, Set, Tuple

from sparkdl.models.contract import Files, Key

if TYPE_CHECKING:
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession

    from sparkdl.graph.frozen import FrozenGraph

__all__ = ["graph_name", "upload_graph", "upload_export", "upload_model_file", "upload_model_path"]

_uploaded: Set[Tuple[str, str]] = set()  # (session id, artifact name)


def graph_name(graph: FrozenGraph) -> str:
    """The name a graph is known by on the server (an artifact, or a graph registered in a classic
    driver): ``sparkdl-graph-<sha256 prefix>.pb``."""
    return "sparkdl-graph-%s.pb" % graph.sha256[:24]


def upload_graph(spark: ConnectSparkSession, graph: FrozenGraph) -> str:
    """Uploads ``graph`` (``graph.pb`` + its tensor names) to the Connect session; returns the name
    the server's stages read it by (their ``graphPath``)."""
    name = graph_name(graph)

    def files(d: str) -> List[str]:
        graph.save(d)
        pb, names = os.path.join(d, name), os.path.join(d, name[:-len(".pb")] + ".json")
        os.rename(os.path.join(d, "graph.pb"), pb)
        os.rename(os.path.join(d, "graph.json"), names)
        return [pb, names]

    _upload_once(spark, name, files, file=True)
    return name


def upload_export(spark: ConnectSparkSession, export_dir: str, model_name: str) -> str:
    """Uploads a named model's export (the files of ``export_dir/<model_name>/``) to the
    Connect session as a zip archive, which the server unpacks; returns the archive's name, the
    server-side ``modelDir``. Named by the graph's content, so each export travels once per session."""
    import json
    import zipfile

    model = os.path.join(export_dir, model_name)
    with open(os.path.join(model, Files.MODEL_JSON)) as f:
        sha = json.load(f)[Key.GRAPH_SHA256]
    name = "sparkdl-model-%s-%s.zip" % (model_name, sha[:24])

    def files(d: str) -> List[str]:
        archive = os.path.join(d, name)
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
            for file in sorted(os.listdir(model)):  # model.json, graph.pb (and a text model's vocab.txt)
                z.write(os.path.join(model, file), model_name + "/" + file)
        return [archive]

    _upload_once(spark, name, files, archive=True)
    return name


def upload_model_file(spark: ConnectSparkSession, path: str) -> str:
    """Uploads a model file (an ONNX model) to the Connect session under a name made of its content
    and extension; returns that name (the server's stages read it by it)."""
    import hashlib
    import shutil

    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    name = "sparkdl-model-%s%s" % (digest, os.path.splitext(path)[1].lower())

    def files(d: str) -> List[str]:
        target = os.path.join(d, name)
        shutil.copyfile(path, target)
        return [target]

    _upload_once(spark, name, files, file=True)
    return name


def upload_model_path(spark: ConnectSparkSession, path: str, onnx_only: bool = False) -> str:
    """Uploads the model file at ``path``: an ONNX model as it is (any file with ``onnx_only``), a frozen
    graph file with its tensor names; returns the name the server's stages read it by."""
    if onnx_only or path.lower().endswith(".onnx"):
        return upload_model_file(spark, path)
    from sparkdl.graph.frozen import FrozenGraph

    return upload_graph(spark, FrozenGraph.load_file(path))


def _upload_once(spark: ConnectSparkSession, name: str, files: Callable[[str], List[str]], **kind: bool) -> None:
    """``spark.addArtifacts(*files(tmpdir), **kind)`` unless artifact ``name`` went to this session before."""
    key = (spark.session_id, name)
    if key in _uploaded:
        return
    with tempfile.TemporaryDirectory(prefix="sparkdl-") as d:
        try:
            spark.addArtifacts(*files(d), **kind)
        except Exception as e:  # the same content uploaded before, by another process of this session
            if "already exists" not in str(e).lower() and "ARTIFACT_ALREADY_EXISTS" not in str(e):
                raise
    _uploaded.add(key)
