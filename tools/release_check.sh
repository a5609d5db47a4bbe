#!/usr/bin/env bash
# `make release-check`: what a release would publish, built from a clean clone of this repository's HEAD
# (committed work only) and installed as a user would: an sdist and a wheel (`python -m build`, the JVM
# side built by build/sbt inside the sdist's own build), each into a fresh virtualenv with the README's
# extras, `pip check` clean, then the README quickstart on a folder of generated images.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d -t sparkdl-release-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
echo "== clean clone of $(git -C "$ROOT" rev-parse --short HEAD) into $WORK/src"
git clone -q "$ROOT" "$WORK/src"
python3 -m venv "$WORK/build-env"
"$WORK/build-env/bin/python" -m pip install -q --upgrade pip build
(cd "$WORK/src" && "$WORK/build-env/bin/python" -m build --sdist --wheel --outdir "$WORK/dist" . > "$WORK/build.log" 2>&1) \
  || { tail -50 "$WORK/build.log"; exit 1; }
ls -l "$WORK/dist"
# the images and the quickstart script (its folder of images excepted, as the package tests run it)
(cd "$ROOT" && .venv/bin/python - "$WORK" <<'PY'
import os, re, sys
sys.path.insert(0, os.getcwd())
work = sys.argv[1]
from tests.support.fixtures import write_shapes
images = write_shapes(os.path.join(work, "images"), n_per_class=15, seed=9, task="colour")
text = open("README.md").read()
code = re.search(r"```python\n(.*?)```", text[text.index("\n## Quickstart\n"):], re.S).group(1)
open(os.path.join(work, "quickstart.py"), "w").write(code.replace('IMAGES = "/data/flowers"', "IMAGES = %r" % images))
PY
)
for artifact in "$WORK"/dist/*.whl "$WORK"/dist/*.tar.gz; do
  echo "== $(basename "$artifact"): fresh venv, [spark,tf], pip check, quickstart"
  rm -rf "$WORK/venv" "$WORK/run"
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/python" -m pip install -q --upgrade pip
  "$WORK/venv/bin/python" -m pip install -q "$artifact[spark,tf]"
  "$WORK/venv/bin/python" -m pip check
  mkdir "$WORK/run"
  (cd "$WORK/run" && "$WORK/venv/bin/python" "$WORK/quickstart.py" > out.txt 2> err.txt) \
    || { tail -40 "$WORK/run/err.txt"; exit 1; }
  grep -q "Egyptian\|description" "$WORK/run/out.txt" || { cat "$WORK/run/out.txt"; exit 1; }
done
echo "== release-check passed: $(ls "$WORK/dist" | tr '\n' ' ')"
