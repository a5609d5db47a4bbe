"""`make bench`: sparkdl against its peers, measured in one run on the same images.

Rows (images/second, higher is better; ratios against the peers in the same run):
  1. sparkdl DeepImageFeaturizer end to end on local[2]: readImages (JVM decode) + resize +
     TensorFlow Java + a noop sink; for the small model also with readImages(draftSize=224),
     JPEGs decoded at libjpeg's DCT scale as Pillow's draft does;
  2. plain Keras in this process: Pillow decode + resize, model.predict in batches;
  3. Spark's predict_batch_udf with the same Keras model, decoding in the Python worker;
  4. the same frozen graph in one TensorFlow Python process on pre-decoded arrays
     (the compute limit), and in TF Java from two threads (sparkdl's compute limit);
  5. decode + resize to 224x224 alone, one thread: sparkdl's JVM path vs Pillow, both at full
     size and with draft decoding.
Also: graph loads per JVM, executor (local mode: driver) JVM memory over 1,000 and 20,000
images, and peak memory of the driver JVM and of this process.

    .venv/bin/python bench/run.py [--images 1000] [--models ResNet50,EfficientNetLite0] [--memory-images 20000]
"""
import argparse
import os
import resource
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def make_images(directory, n, seed=0):
    """n JPEG files of mixed sizes (320x240 to 1024x768) with shapes and noise."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    sizes = [(320, 240), (640, 480), (800, 600), (1024, 768), (500, 375)]
    os.makedirs(directory, exist_ok=True)
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        img = Image.fromarray(rng.integers(0, 256, size=(h // 8, w // 8, 3), dtype=np.uint8)).resize((w, h))
        draw = ImageDraw.Draw(img)
        for _ in range(4):
            x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
            draw.ellipse([x0, y0, x0 + int(rng.integers(10, w // 2)), y0 + int(rng.integers(10, h // 2))],
                         fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        img.save(os.path.join(directory, "img_%05d.jpg" % i), quality=90)
    return sorted(os.path.join(directory, f) for f in os.listdir(directory))


def _bench_jar():
    """The JVM helpers' jar (`make bench` builds it with `build/sbt bench/package`)."""
    import glob

    here = os.path.dirname(os.path.abspath(__file__))
    jars = sorted(glob.glob(os.path.join(here, "target", "scala-2.13", "sparkdl-bench_2.13-*.jar")))
    if not jars:
        raise SystemExit("bench/target has no sparkdl-bench jar: run `make bench` (it builds it)")
    return jars[-1]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


class RssSampler:
    """Peak resident memory of a JVM, and its peak committed Java heap, sampled every 50 ms
    while the block runs: RSS minus heap is the memory outside the Java heap (TensorFlow's
    tensors and sessions, the JVM's own)."""

    def __init__(self, pid, jvm):
        self.pid, self.jvm, self.peak_kib, self.peak_heap, self.peak_outside = pid, jvm, 0, 0, 0

    def _rss_kib(self):
        for line in open("/proc/%d/status" % self.pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def __enter__(self):
        import threading

        self._stop = threading.Event()

        def loop():
            runtime = self.jvm.Runtime.getRuntime()
            while not self._stop.is_set():
                rss, heap = self._rss_kib() * 1024, runtime.totalMemory()
                self.peak_kib = max(self.peak_kib, rss // 1024)
                self.peak_heap = max(self.peak_heap, heap)
                self.peak_outside = max(self.peak_outside, rss - heap)
                self._stop.wait(0.05)
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def keras_model(name, weights):
    from sparkdl.models.registry import get_spec, load_symbol

    return load_symbol(get_spec(name).builder)(weights=weights, include_top=True)


def pil_load(path, size, draft=False):
    from PIL import Image

    img = Image.open(path)
    if draft:
        img.draft("RGB", (size, size))
    return np.asarray(img.convert("RGB").resize((size, size), Image.BILINEAR), np.float32)


def bench_model(spark, name, files, directory, weights_file, draft):
    import tensorflow as tf
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql.types import ArrayType, FloatType

    from sparkdl import DeepImageFeaturizer, readImages
    from sparkdl.models import get_spec
    from sparkdl.models.export import cached_model_dir, features_model
    from sparkdl.models.registry import load_symbol

    spec = get_spec(name)
    size, n = spec.height, len(files)
    compute_images = min(n, 320)  # a constant batch: its rate settles within a few batches
    model = keras_model(name, weights_file or "imagenet")
    features = features_model(model)
    preprocess = load_symbol(spec.preprocessor)

    # 1. sparkdl end to end (export and first graph load done before timing)
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName=name,
                                     weightsPath=weights_file, batchSize=32)
    featurizer.transform(readImages(files[0])).write.format("noop").mode("overwrite").save()
    loads_before = spark.sparkContext._jvm.sparkdl.inference.SessionCache.loadCount()
    t_sparkdl, _ = timed(lambda: featurizer.transform(readImages(directory, numPartitions=8))
                         .write.format("noop").mode("overwrite").save())
    loads = spark.sparkContext._jvm.sparkdl.inference.SessionCache.loadCount() - loads_before
    t_draft = None
    if draft:
        t_draft, _ = timed(lambda: featurizer.transform(readImages(directory, numPartitions=8, draftSize=size))
                           .write.format("noop").mode("overwrite").save())

    # 2. plain Keras: Pillow decode + resize + predict in batches of 32
    def keras_run():
        for i in range(0, n, 32):
            batch = np.stack([pil_load(f, size) for f in files[i:i + 32]])
            features.predict(preprocess(batch), batch_size=32, verbose=0)
    t_keras, _ = timed(keras_run)

    # 3. predict_batch_udf, decoding in the Python worker
    def make_predict_fn():  # runs in the Python worker: load the model there, as the API intends
        import io

        from PIL import Image

        from sparkdl.models.export import features_model

        m = features_model(keras_model(name, weights_file or "imagenet"))

        def predict(contents):
            batch = np.stack([np.asarray(Image.open(io.BytesIO(c)).convert("RGB").resize((size, size),
                                         Image.BILINEAR), np.float32) for c in contents])
            return m.predict(preprocess(batch), batch_size=32, verbose=0)
        return predict
    udf = predict_batch_udf(make_predict_fn, return_type=ArrayType(FloatType()), batch_size=32)
    binary = spark.read.format("binaryFile").load(directory).repartition(8)
    binary.select(udf("content")).limit(4).write.format("noop").mode("overwrite").save()
    t_pbu, _ = timed(lambda: binary.select(udf("content")).write.format("noop").mode("overwrite").save())

    # 4. the frozen graph in one TF Python process on pre-decoded arrays
    import json

    export = os.path.join(cached_model_dir(name, weights_file), name)
    meta = json.load(open(os.path.join(export, "model.json")))
    graph_def = tf.compat.v1.GraphDef.FromString(open(os.path.join(export, "graph.pb"), "rb").read())
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    fn = wrapped.prune(wrapped.graph.get_tensor_by_name(meta["inputTensor"]),
                       wrapped.graph.get_tensor_by_name(meta["featuresTensor"]))
    arrays = np.stack([pil_load(f, size) for f in files[:64]])
    fn(tf.constant(arrays[:32]))
    reps = max(1, compute_images // 64)
    t_frozen, _ = timed(lambda: [fn(tf.constant(arrays[i:i + 32])) for _ in range(reps) for i in (0, 32)])
    frozen_rate = reps * 64 / t_frozen
    # ... and in TF Java, two tasks' worth of callers sharing one session, as executors run it
    jvm_rate = spark.sparkContext._jvm.sparkdl.bench.ModelCompute.imagesPerSecond(
        os.path.join(export, "graph.pb"), meta["inputTensor"], meta["featuresTensor"], size, size, 32,
        max(1, compute_images // 64), 2)

    return {"sparkdl": n / t_sparkdl, "draft": n / t_draft if t_draft else None, "keras": n / t_keras,
            "predict_batch_udf": n / t_pbu, "frozen": frozen_rate, "jvm": jvm_rate, "loads": loads}


def memory_growth(spark, name, directory, work, counts=(1000, 20000)):
    """Executor JVM memory while DeepImageFeaturizer streams 1,000 and then 20,000 images.

    The 20,000 files are hard links to the 1,000 (same bytes, distinct paths). Both runs use 8
    partitions, so a task streams 125 or 2,500 images: memory must not follow the count.
    Returns [(count, images/s, peak RSS MiB during the run, peak committed heap MiB, peak RSS outside
    the committed heap MiB, live heap MiB after a full GC)].
    """
    from sparkdl import DeepImageFeaturizer, readImages

    sources = sorted(os.listdir(directory))
    jvm = spark.sparkContext._jvm
    pid = int(jvm.ProcessHandle.current().pid())
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName=name, batchSize=32)
    featurizer.transform(readImages(os.path.join(directory, sources[0]))).write.format("noop").mode("overwrite").save()
    out = []
    for k, count in enumerate(counts):
        folder = os.path.join(work, "links_%d_%d" % (k, count))
        os.makedirs(folder)
        for i in range(count):
            os.link(os.path.join(directory, sources[i % len(sources)]), os.path.join(folder, "img_%06d.jpg" % i))
        jvm.System.gc()
        with RssSampler(pid, jvm) as rss:
            t, _ = timed(lambda folder=folder: featurizer.transform(readImages(folder, numPartitions=8, draftSize=224))
                         .select("filePath", "features").write.format("noop").mode("overwrite").save())
        jvm.System.gc()
        runtime = jvm.Runtime.getRuntime()
        out.append((count, count / t, rss.peak_kib / 1024, rss.peak_heap / 2 ** 20, rss.peak_outside / 2 ** 20,
                    (runtime.totalMemory() - runtime.freeMemory()) / 2 ** 20))
        print("  memory, %d images: %s" % (count, [round(v, 1) for v in out[-1]]), flush=True)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--models", default="ResNet50,EfficientNetLite0")
    parser.add_argument("--memory-images", type=int, default=20000,
                        help="images for the executor memory check (0: skip it)")
    args = parser.parse_args()

    import sparkdl
    from sparkdl.models.registry import get_spec, load_symbol

    started = time.perf_counter()
    work = tempfile.mkdtemp(prefix="sparkdl-bench-")
    directory = os.path.join(work, "images")
    t, files = timed(lambda: make_images(directory, args.images))
    print("%d JPEG files, mixed sizes, written in %.0f s under %s" % (len(files), t, directory))
    bench_jar = _bench_jar()
    spark = sparkdl.spark_session("local[2]", app_name="sparkdl-bench", **{
        "spark.jars": bench_jar, "spark.driver.extraClassPath": bench_jar, "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false", "spark.driver.memory": "6g",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "32"})
    spark.sparkContext.setLogLevel("ERROR")
    models = args.models.split(",")
    small = models[-1]

    # First, in a JVM that has run nothing else: memory over 1,000 and 20,000 images.
    memory = []
    if args.memory_images:
        memory = memory_growth(spark, small, directory, work, (min(1000, args.memory_images), args.memory_images))

    rows = []
    for name in models:
        weights = None
        if name != "EfficientNetLite0":  # speed does not depend on the weights: random, saved to a file
            weights = os.path.join(work, name + ".weights.h5")
            load_symbol(get_spec(name).builder)(weights=None, include_top=True).save_weights(weights)
        r = bench_model(spark, name, files, directory, weights, draft=(name == small))
        rows.append((name, r))
        print("  %s done: %s" % (name, {k: round(v, 1) for k, v in r.items() if v is not None}), flush=True)

    # 5. decode + resize alone, one thread each, full size and draft
    decode = spark.sparkContext._jvm.sparkdl.bench.DecodeResize
    decode.imagesPerSecond(files[:300], 224, False)  # warm the JIT first
    jvm_rate = decode.imagesPerSecond(files, 224, False)
    jvm_draft = decode.imagesPerSecond(files, 224, True)
    pil_rate = len(files) / timed(lambda: [pil_load(f, 224) for f in files])[0]
    pil_draft = len(files) / timed(lambda: [pil_load(f, 224, draft=True) for f in files])[0]

    print("\nsparkdl benchmark: %d images, local[2], %d cores, images/second (higher is better)\n"
          % (len(files), os.cpu_count()))
    print("%-18s %9s %9s %9s %9s %9s %10s %10s %10s %8s" % (
        "model", "sparkdl", "keras", "pbudf", "frozen", "tf-java", "vs keras", "vs pbudf", "vs frozen", "reloads"))
    for name, r in rows:
        print("%-18s %9.1f %9.1f %9.1f %9.1f %9.1f %9.2fx %9.2fx %9.2fx %8d" % (
            name, r["sparkdl"], r["keras"], r["predict_batch_udf"], r["frozen"], r["jvm"], r["sparkdl"] / r["keras"],
            r["sparkdl"] / r["predict_batch_udf"], r["sparkdl"] / r["frozen"], r["loads"]))
        if r["draft"]:
            print("%-18s %9.1f %9s %9s %9s %9s %9.2fx %9.2fx %9.2fx" % (
                "  draftSize=224", r["draft"], "", "", "", "", r["draft"] / r["keras"],
                r["draft"] / r["predict_batch_udf"], r["draft"] / r["frozen"]))
    print("\ndecode+resize to 224x224, one thread, img/s:  sparkdl JVM %.0f vs Pillow %.0f (%.2fx);"
          "  with draft: %.0f vs %.0f (%.2fx)" % (jvm_rate, pil_rate, jvm_rate / pil_rate,
                                                 jvm_draft, pil_draft, jvm_draft / pil_draft))
    cores = os.cpu_count()
    print("\nwhat bounds end to end: the model's TF Java rate and decode+resize share the %d cores, so at best" % cores)
    for name, r in rows:
        variants = (("full decode", jvm_rate, r["sparkdl"]), ("draftSize=224", jvm_draft, r["draft"]))
        for label, rate, measured in variants:
            if measured:
                best = 1 / (1 / r["jvm"] + 1 / (cores * rate))
                print("  %-18s %-14s %6.1f img/s = %.2fx frozen (measured %.2fx)" % (
                    name, label, best, best / r["frozen"], measured / r["frozen"]))
    if memory:
        print("\nexecutor JVM memory (local mode: the driver), %s draftSize=224, 8 partitions:" % small)
        for count, rate, peak, heap, outside, live in memory:
            print("  %6d images: %6.1f img/s, peak RSS %5.0f MiB (peak committed Java heap %5.0f, peak RSS beyond"
                  " it %5.0f), live heap after GC %4.0f MiB" % (count, rate, peak, heap, outside, live))
    status = open("/proc/%d/status" % int(spark.sparkContext._jvm.ProcessHandle.current().pid())).read()
    peak_jvm = [line for line in status.splitlines() if line.startswith("VmHWM")][0].split()[1]
    print("\nsparkdl: readImages + DeepImageFeaturizer + noop sink; keras: Pillow + model.predict in this process;"
          "\npbudf: predict_batch_udf, Pillow in the Python worker; frozen: the exported graph in TF Python on"
          "\npre-decoded arrays (the compute limit); tf-java: the same graph in TF Java, two threads at once.")
    print("reloads: graph loads in the JVM during the timed run (it was loaded once before; 0 = no reload per task)")
    print("peak RSS over the whole run: driver/executor JVM %.0f MiB, this Python process %.0f MiB; %.0f s in all"
          % (int(peak_jvm) / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
             time.perf_counter() - started))
    spark.stop()


if __name__ == "__main__":
    main()
