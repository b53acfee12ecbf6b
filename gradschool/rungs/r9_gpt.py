"""A tiny GPT: train a transformer on Shakespeare for a few minutes, then let it write.

Everything from the earlier rungs in one model (gradschool/nn/gpt.py, after nanoGPT's model.py): character
embeddings plus position embeddings, a stack of transformer blocks, a final layer norm and a linear layer,
tied to the embedding, that scores every possible next character. It trains with the one training loop
(gradschool.train: AdamW, warmup and cosine decay, gradient clipping), on nanoGPT's CPU recipe, and then
samples with a KV cache: the keys and values of the characters already written are kept, so each new
character costs one position's work. The model is saved in the runs folder as rung9-gpt (rung9-gpt-2, ... if
that is taken), where chapter 9 of the course and `gradschool sample --from rung9-gpt` find it.
"""

import time

import numpy as np

from gradschool.runs import fresh_run_folder, load_model
from gradschool.train import make_config, train

MAX_ITERS = 1500  # about two minutes on a laptop CPU; `gradschool train --model gpt` runs the full 2000
RUN_NAME = "rung9-gpt"  # its folder in the runs folder (./runs, or $GRADSCHOOL_RUNS); rung9-gpt-2 if taken


def main(plot: str | None = None) -> None:
    out_dir = fresh_run_folder(RUN_NAME)  # kept: the course's chapter 9 and `gradschool sample` find it there
    config = make_config("gpt", "shakespeare", max_iters=MAX_ITERS, lr_decay_iters=MAX_ITERS,
                         out_dir=str(out_dir))
    args = config.model_args
    print(f"a GPT of {args['n_layer']} layers, {args['n_head']} heads, {args['n_embd']} wide, context "
          f"{config.block_size} characters, on the shipped Shakespeare; {config.max_iters} steps of "
          f"{config.batch_size} sequences")
    t0 = time.perf_counter()
    result = train(config)
    model, tokenizer, _ = load_model(out_dir)  # the best checkpoint, by val loss
    print(f"trained in {time.perf_counter() - t0:.0f} s; best val loss {result.best_val_loss:.4f} "
          f"(uniform guessing: {np.log(tokenizer.vocab_size):.2f}); {model.get_num_params() / 1e6:.2f}M "
          "parameters")
    print("\nA sample (500 characters, temperature 0.8):\n")
    start = np.array([tokenizer.encode("\n")])
    out = model.generate(start, 500, temperature=0.8, rng=np.random.default_rng(0))
    print(tokenizer.decode(out[0, 1:]))
    if plot:
        from gradschool.plot import plot_losses

        print(f"\nloss curves saved to {plot_losses(out_dir, plot)}")
    print(f"\nThe model is saved in {out_dir}: `gradschool sample --from {out_dir.name}` writes more, and "
          "`gradschool train --model gpt --data shakespeare` trains longer.")
    print("chapter 9 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/9")


if __name__ == "__main__":
    main()
