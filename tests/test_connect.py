"""sparkdl from a Spark Connect client: a standalone Connect server in its own JVM with the
sparkdl jar, clients in a virtualenv with `pyspark-client` only (no JVM, no TensorFlow).
The same calls in classic mode, in this process, are the reference."""
import pytest

import sparkdl
from tests.connect import ConnectServer, run_client
from tests.fixtures import image_rows

pytestmark = pytest.mark.connect


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ConnectServer(str(tmp_path_factory.mktemp("connect")), jars=[sparkdl.jar_path()]) as s:
        yield s


READ_IMAGES = '''
import sparkdl
from tests.fixtures import image_rows
result = {
    "full": image_rows(sparkdl.readImages(args["dir"])),
    "draft": image_rows(sparkdl.readImages(args["dir"], draftSize=64, numPartitions=3)),
    "sql_count": spark.read.format("sparkdl.image").load(args["dir"]).filter("image IS NULL").count(),
}
'''


def test_read_images_over_connect_equals_classic(spark, server, image_dir):
    got = run_client(server.url, READ_IMAGES, {"dir": image_dir})
    assert got["full"] == image_rows(sparkdl.readImages(image_dir))
    assert got["draft"] == image_rows(sparkdl.readImages(image_dir, draftSize=64))
    assert got["sql_count"] == sum(1 for v in got["full"].values() if v[0] is None) == 4
    assert all(v[1] for v in got["full"].values() if v[0] is None), "every null image has a reason"


MISSING_JAR = '''
import sparkdl
try:
    sparkdl.readImages(args["dir"])
    result = "no error"
except sparkdl.SparkdlJarMissingError as e:
    result = str(e)
'''


def test_server_without_the_jar_says_to_start_it_with_jars(tmp_path, image_dir):
    with ConnectServer(str(tmp_path / "nojar")) as bare:
        message = run_client(bare.url, MISSING_JAR, {"dir": image_dir})
    assert "Spark Connect server" in message and "--jars" in message and "SparkConnectServer" in message
