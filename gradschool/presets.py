"""Named training settings: `gradschool train --preset NAME` starts from one, and flags given override it.

Without --preset a run starts from the preset named like its --model (bigram, mlp, gpt), so these are also
each model's defaults (`gradschool train --help` lists them). Every preset names its model. Keys that are
fields of gradschool.train.TrainConfig set the training run (nanoGPT's names); the others (n_layer, n_head,
n_embd, n_hidden, dropout, bias) go to the model's config; what a preset leaves out takes TrainConfig's (or
the model config's) default.
"""

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # a table of next-character scores learns fast with a big step; it has no size options
    "bigram": dict(model="bigram", block_size=8, batch_size=32, max_iters=1000, learning_rate=0.1,
                   min_lr=0.01, warmup_iters=0, weight_decay=0.0, eval_interval=100),
    # makemore part 2's MLP: 3 characters of context
    "mlp": dict(model="mlp", block_size=3, batch_size=32, max_iters=3000, learning_rate=1e-2, min_lr=1e-3,
                warmup_iters=0, weight_decay=0.0, eval_interval=250),
    # nanoGPT's published CPU recipe for shakespeare_char (a "baby GPT" on a MacBook): val loss 1.88
    "nanogpt-cpu": dict(
        model="gpt",
        block_size=64,
        batch_size=12,
        n_layer=4,
        n_head=4,
        n_embd=128,
        dropout=0.0,
        bias=False,
        learning_rate=1e-3,
        min_lr=1e-4,
        warmup_iters=100,
        max_iters=2000,
        lr_decay_iters=2000,
        beta1=0.9,
        beta2=0.99,
        weight_decay=0.1,
        grad_clip=1.0,
        eval_interval=250,
        eval_iters=20,
        eval_batches="fresh",  # nanoGPT's estimate_loss draws new batches at every evaluation
        random_stream="nanogpt",  # torch's draws in nanoGPT's order: seed 1337 replays nanoGPT's own run
    ),
}

# What `gradschool train --model gpt` uses when no --preset is given: the CPU recipe, which writes
# Shakespeare-like text (names, line breaks, mostly real words) after a few minutes on a laptop.
# It evaluates on fixed batches, so that the best checkpoint is chosen by a like-for-like comparison.
PRESETS["gpt"] = dict(PRESETS["nanogpt-cpu"], eval_batches="fixed", random_stream="gradschool")
