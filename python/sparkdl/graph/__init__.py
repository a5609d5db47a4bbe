"""Keras / TensorFlow -> frozen GraphDef export (imports TensorFlow when a model is exported).

The JVM runs frozen graphs: variables folded into constants, with stable tensor
names. ``FrozenGraph`` is what a Keras model or a ``tf.function`` becomes.
"""
from sparkdl.graph.export import freeze_function, freeze_keras
from sparkdl.graph.frozen import FrozenGraph

__all__ = ["FrozenGraph", "freeze_keras", "freeze_function"]
