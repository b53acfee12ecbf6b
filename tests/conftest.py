"""Shared by every test: pytest puts this folder on sys.path, so its helper modules import by name.

    tensor_check   the Tensor engine's oracle: an op against PyTorch (values and gradients) and against
                   float64 central differences, and seeded random inputs
    strategies     Hypothesis strategies (array shapes, broadcastable pairs, axes, matmul shapes)
    torch_gpt      the project's nanoGPT-like model in PyTorch, the GPT's oracle
    nanogpt_loop   nanoGPT's training loop in PyTorch, the training loop's oracle
    live_server    the real course server on a free 127.0.0.1 port
    browser        Debian's Chromium driven by Playwright, offline, for the pages

Hypothesis runs without its per-example deadline: the machine is shared, and a timing is never a test here.
"""

from hypothesis import settings

settings.register_profile("gradschool", deadline=None)
settings.load_profile("gradschool")
