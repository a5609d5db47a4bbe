"""The compute bound of the text rows: what any runner of the same export could reach on these cores.

    .venv/bin/python bench/text_bound.py [--sentences 10000]

The same 10,000 generated sentences as `make bench`, tokenized beforehand (not timed), sorted by
length over the whole set (no runner can pad less), cut into batches of 16, 32 and 64, and run
by one thread per core, each with its own single-threaded session of the export (TensorFlow or
ONNX Runtime): the model alone, with no tokenizing, no Spark, no copying. A runner's
sentences/second divided by this is the share of the machine it turns into model work; two
runners' ratio cannot exceed bound / slower runner.
"""
import argparse
import os
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))


def batches(encodings, size):
    """(ids, mask) int32 batches of `size` sentences, in order of length, each padded to its longest."""
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
    out = []
    for start in range(0, len(order), size):
        rows = order[start:start + size]
        longest = max(len(encodings[i].ids) for i in rows)
        ids = np.zeros((len(rows), longest), np.int32)
        mask = np.zeros_like(ids)
        for r, i in enumerate(rows):
            ids[r, :len(encodings[i].ids)] = encodings[i].ids
            mask[r, :len(encodings[i].ids)] = 1
        out.append((ids, mask))
    return out


def main():
    import peers
    from run import make_sentences, sentence_vocab

    from sparkdl.models.text import cached_text_model_dir

    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=10000)
    parser.add_argument("--text-models", default="all-MiniLM-L6-v2,all-MiniLM-L6-v2-int8")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    for name in args.text_models.split(","):
        root, _ = cached_text_model_dir(name)
        export = os.path.join(root, name)
        texts = make_sentences(args.sentences, sentence_vocab(export))
        fns = []
        for _ in range(cores):  # a session each: text_encoder caches one per process, so take it out each time
            peers._models.clear()
            fn, tokenizer = peers.text_encoder(export, threads=1)
            fns.append(fn)
        encodings = tokenizer.encode_batch(texts)
        for size in (16, 32, 64):
            work = batches(encodings, size)
            for fn in fns:
                fn(*work[0])  # a first run each

            def run(fn, share):
                for ids, mask in share:
                    fn(ids, mask)
            threads = [threading.Thread(target=run, args=(fns[k], work[k::cores])) for k in range(cores)]
            t0 = time.time()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            print("%s: batch %d, %d threads x 1-thread sessions, model only: %.1f sentences/s"
                  % (name, size, cores, len(texts) / (time.time() - t0)), flush=True)


if __name__ == "__main__":
    main()
