"""Frozen graphs as Spark Connect artifacts: the files a client uploads so the server's stages
can read them (``graphPath``), named by content so each graph travels once per session."""
import os
import tempfile

__all__ = ["upload_graph"]

_uploaded = set()  # (session id, artifact name)


def upload_graph(spark, graph):
    """Uploads ``graph`` (``graph.pb`` + its tensor names) to the Connect session; returns the name
    the server's stages read it by (their ``graphPath``)."""
    name = "sparkdl-graph-%s" % graph.sha256[:24]
    key = (spark.session_id, name)
    if key not in _uploaded:
        with tempfile.TemporaryDirectory(prefix="sparkdl-graph-") as d:
            graph.save(d)
            pb, names = os.path.join(d, name + ".pb"), os.path.join(d, name + ".json")
            os.rename(os.path.join(d, "graph.pb"), pb)
            os.rename(os.path.join(d, "graph.json"), names)
            try:
                spark.addArtifacts(pb, names, file=True)
            except Exception as e:  # the same content uploaded before, by another process of this session
                if "already exists" not in str(e).lower() and "ARTIFACT_ALREADY_EXISTS" not in str(e):
                    raise
        _uploaded.add(key)
    return name + ".pb"
