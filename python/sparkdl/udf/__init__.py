"""Models as Spark SQL functions: ``SELECT image, my_fn(image) AS objects FROM t``."""
from sparkdl.udf.keras_image_model import registerKerasImageUDF, registerKerasUDF

__all__ = ["registerKerasImageUDF", "registerKerasUDF"]
