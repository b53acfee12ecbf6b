"""gradschool: neural networks from scratch, from a single neuron to a tiny GPT."""

import os

# Import-time side effect (gradschool/tensor/kernels.py, trick 2): after each matrix product OpenBLAS's idle
# threads spin for about 0.1 s before they sleep, holding cores that the Tensor engine's own threads need
# next; this makes them sleep at once. OpenBLAS reads it when NumPy is first imported, so it only helps when
# gradschool is imported first. GRADSCHOOL_NO_TUNING=1 in the environment leaves it out.
if os.environ.get("GRADSCHOOL_NO_TUNING", "0") in ("", "0"):
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

__version__ = "0.1.0"
