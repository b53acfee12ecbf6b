"""The transformer block: multi-head attention, a GELU MLP, residuals and layer norm, and why they matter.

A block lets every position first gather information from the positions before it (multi-head causal
self-attention: several small heads in parallel, their q, k, v from one matrix product), then think about it
on its own (an MLP: widen 4x, GELU, project back). Each of the two runs as a residual branch on a normalized
input, x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)). The residual stream gives the gradient a straight path
from the loss to the first layer, and layer norm keeps every branch's input at a sane scale. Stack eight
blocks without them and training stalls; that is what this rung measures.
"""

import time
from collections.abc import Callable
from functools import cache

import numpy as np

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer, load_text
from gradschool.data.batches import get_batch
from gradschool.nn import Embedding, LayerNorm, Linear, Module, ModuleList
from gradschool.nn.gpt import MLP, CausalSelfAttention, GPTConfig
from gradschool.optim import AdamW
from gradschool.tensor import Tensor, manual_seed
from gradschool.tensor.random import generator


class Block(Module):
    """The GPT block, with switches to take out the residual connections or the layer norms."""

    def __init__(self, config: GPTConfig, residual: bool = True, layer_norm: bool = True):
        super().__init__()
        self.residual, self.layer_norm = residual, layer_norm
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor) -> Tensor:
        for norm, branch in ((self.ln_1, self.attn), (self.ln_2, self.mlp)):
            h = branch(norm(x) if self.layer_norm else x)
            x = x + h if self.residual else h
        return x


class DeepModel(Module):
    """Embeddings, a stack of blocks, a final layer norm (if any) and a linear head: a small GPT."""

    def __init__(self, config: GPTConfig, residual: bool, layer_norm: bool):
        super().__init__()
        self.layer_norm = layer_norm
        self.wte = Embedding(config.vocab_size, config.n_embd)
        self.wpe = Embedding(config.block_size, config.n_embd)
        self.h = ModuleList([Block(config, residual, layer_norm) for _ in range(config.n_layer)])
        self.ln_f = LayerNorm(config.n_embd, bias=config.bias)
        self.head = Linear(config.n_embd, config.vocab_size, bias=False)
        rng = generator()  # the seeded global generator: every weight gets its own draws
        for p in self.parameters():  # GPT-2's init, as in gradschool.nn.gpt
            if p.ndim == 2:
                p.data[...] = rng.normal(0.0, 0.02, p.shape)

    def stream(self, idx: np.ndarray) -> list[Tensor]:
        """The residual stream (B, T, n_embd): after the embeddings, then after each block."""
        xs = [self.wte(idx) + self.wpe(np.arange(idx.shape[1]))]
        for block in self.h:
            xs.append(block(xs[-1]))
        return xs

    def forward(self, idx: np.ndarray) -> Tensor:
        x = self.stream(idx)[-1]
        return self.head(self.ln_f(x) if self.layer_norm else x)


@cache
def shakespeare() -> tuple[CharTokenizer, np.ndarray]:
    """The first 200,000 characters of Shakespeare, as the tokenizer and the token ids the ablation uses."""
    text = load_text("shakespeare")[:200_000]
    tokenizer = CharTokenizer.from_text(text)
    return tokenizer, np.array(tokenizer.encode(text), dtype=np.int64)


def deep_config(vocab_size: int, n_layer: int = 8) -> GPTConfig:
    """The ablation's model: n_layer blocks, 32 wide, 4 heads, a context of 32 characters."""
    return GPTConfig(block_size=32, vocab_size=vocab_size, n_layer=n_layer, n_head=4, n_embd=32)


def train(config: GPTConfig, data: np.ndarray, residual: bool, layer_norm: bool, steps: int,
          on_step: Callable[[DeepModel, float], None] | None = None) -> list[float]:
    """Train one variant on the same batches from the same seed; returns its losses.

    on_step(model, loss), if given, is called after every step (the gradients of that step still in place).
    """
    manual_seed(0)
    model = DeepModel(config, residual, layer_norm)
    opt = AdamW(list(model.parameters()), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.0)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(steps):
        x, y = get_batch(data, 16, config.block_size, rng)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, config.vocab_size), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(model, losses[-1])
    return losses


def main(plot: str | None = None) -> None:
    tokenizer, data = shakespeare()
    config = deep_config(tokenizer.vocab_size)

    print("multi-head attention, shapes for a batch of 16 sequences of 32 characters, 32 wide, 4 heads:")
    print("  x (16, 32, 32) -> c_attn: q, k, v (16, 32, 32) each -> split into heads (16, 4, 32, 8)")
    print("  -> softmax(q k^T / sqrt(8)) v per head (16, 4, 32, 8) -> side by side (16, 32, 32) -> c_proj")
    print("the MLP at each position: 32 -> 128 -> GELU -> 32\n")

    steps = 300
    print(f"{config.n_layer} blocks, {steps} steps of AdamW on Shakespeare; mean loss of the last 50 steps:")
    results = {}
    for residual, layer_norm in ((True, True), (True, False), (False, True), (False, False)):
        name = f"{'' if residual else 'no '}residual + {'' if layer_norm else 'no '}layer norm"
        t0 = time.perf_counter()
        results[name] = train(config, data, residual, layer_norm, steps)
        print(f"  {name:<30} loss {np.mean(results[name][-50:]):.3f}   ({time.perf_counter() - t0:.1f} s)")
    freq = np.bincount(data, minlength=config.vocab_size) / len(data)
    unigram = -(freq[freq > 0] * np.log(freq[freq > 0])).sum()
    print(f"  (for scale: uniform guessing scores {np.log(config.vocab_size):.2f}, knowing only how common "
          f"each character is {unigram:.2f})")
    print("\nWith both, the deep stack learns fastest. Without residuals every gradient must pass through all"
          "\nsixteen branches, each shrinking it, and the first layers hardly learn; without layer norm the"
          "\nscale of the stream drifts from block to block.")

    if plot:
        from gradschool.rungs.plots import figure, save

        fig, ax = figure((7, 4))
        for name, losses in results.items():
            ax.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label=name)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss (mean of 10 steps)")
        ax.set_title(f"{config.n_layer} transformer blocks")
        ax.legend()
        save(fig, plot)
    print("\nchapter 8 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/8")


if __name__ == "__main__":
    main()
