"""Images for the demo and the tests, offline: real photos that ship inside scikit-image and
scikit-learn, and a generated labelled set."""
import os

import numpy as np
from PIL import Image, ImageDraw


def write_photos(directory):
    import skimage.data as data
    from sklearn.datasets import load_sample_images

    os.makedirs(directory, exist_ok=True)
    for name in ["chelsea", "coffee", "astronaut", "rocket"]:
        Image.fromarray(getattr(data, name)()).save(os.path.join(directory, name + ".jpg"), quality=92)
    Image.fromarray(data.camera()).save(os.path.join(directory, "camera_gray.png"))
    for name, img in zip(["china", "flower"], load_sample_images().images):
        Image.fromarray(img).save(os.path.join(directory, name + ".jpg"), quality=92)
    return directory


def write_shapes(directory, n_per_class=60, seed=0, task="colour"):
    """Labelled images of random shapes on noisy backgrounds, mixed sizes, in one folder per class.

    task="colour": ``red/`` vs. ``blue/`` shapes (any kind); task="shape": ``ellipse/`` vs.
    ``rectangle/`` (any colour), which needs features that see shape, not colour.
    """
    rng = np.random.default_rng(seed)
    classes = ["red", "blue"] if task == "colour" else ["ellipse", "rectangle"]
    for label, name in enumerate(classes):
        d = os.path.join(directory, name)
        os.makedirs(d, exist_ok=True)
        for i in range(n_per_class):
            w, h = int(rng.integers(60, 160)), int(rng.integers(60, 160))
            img = Image.fromarray(rng.integers(90, 160, size=(h, w, 3), dtype=np.uint8))
            draw = ImageDraw.Draw(img)
            if task == "colour":
                strong, weak = int(rng.integers(170, 255)), int(rng.integers(0, 80))
                colour = (strong, weak, weak) if label == 0 else (weak, weak, strong)
            else:
                colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
            for _ in range(int(rng.integers(1, 3))):
                x0, y0 = int(rng.integers(0, w // 3)), int(rng.integers(0, h // 3))
                box = [x0, y0, x0 + int(rng.integers(w // 3, w // 2)), y0 + int(rng.integers(h // 3, h // 2))]
                if task == "colour":
                    ellipse = rng.random() < 0.5
                else:
                    ellipse = label == 0
                (draw.ellipse if ellipse else draw.rectangle)(box, fill=colour)
            img.save(os.path.join(d, "%s_%03d.png" % (name, i)))
    return directory
