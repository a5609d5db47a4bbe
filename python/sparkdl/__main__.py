"""``python -m sparkdl submit-args``: prints the spark-submit arguments that give an application sparkdl."""
import sys

from sparkdl._jvm import main

sys.exit(main())
