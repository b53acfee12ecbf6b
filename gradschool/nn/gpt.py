"""A GPT language model in one file, after nanoGPT's model.py: the summit of the ladder (rung 9).

    GPT
    ├── transformer.wte   token embedding (vocab_size, n_embd), shared with the output layer lm_head
    ├── transformer.wpe   position embedding (block_size, n_embd)
    ├── transformer.h     n_layer Blocks: x + attn(ln_1(x)), then x + mlp(ln_2(x))
    ├── transformer.ln_f  final layer norm
    └── lm_head           logits over the vocabulary

The parameter names and shapes are nanoGPT's, so weights move between this model and nanoGPT (or any PyTorch
code written like it): see gradschool/nanogpt.py, which also replays nanoGPT's random init.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import gradschool.tensor.functional as F
from gradschool.nn import Dropout, Embedding, LayerNorm, Linear, Module, ModuleList
from gradschool.nn.language_model import LanguageModel
from gradschool.tensor import Tensor, no_grad
from gradschool.tensor.random import generator


@dataclass
class GPTConfig:
    """The model's shape: nanoGPT's names and meaning, defaults of its CPU recipe (a laptop-sized GPT)."""

    block_size: int = 64  # the longest context, in tokens
    vocab_size: int = 65  # number of distinct tokens (characters)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False  # biases in the Linears and LayerNorms, like GPT-2; False is a bit better and faster


class KVCache:
    """The keys and values of the positions seen so far, for one attention layer while sampling."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity  # the most positions it holds: the model's block_size
        self.k: np.ndarray | None = None  # (B, n_head, capacity, head_size), filled up to self.length
        self.v: np.ndarray | None = None
        self.length = 0

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store the new positions' keys and values (B, H, T, D); returns those of all positions so far."""
        if self.k is None:
            B, H, _, D = k.shape
            self.k = np.empty((B, H, self.capacity, D), dtype=k.dtype)
            self.v = np.empty_like(self.k)
        end = self.length + k.shape[2]
        self.k[:, :, self.length : end] = k.data
        self.v[:, :, self.length : end] = v.data
        self.length = end
        return Tensor(self.k[:, :, :end]), Tensor(self.v[:, :, :end])


class CausalSelfAttention(Module):
    """n_head heads of attention in parallel; each position attends to itself and the positions before it."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        if config.n_embd % config.n_head != 0:
            raise ValueError(f"n_embd ({config.n_embd}) must be a multiple of n_head ({config.n_head}) so "
                             "every head gets the same size")
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.c_attn = Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v in one matmul
        self.c_proj = Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = Dropout(config.dropout)
        self.dropout = config.dropout

    def heads(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The queries, keys and values of x (B, T, C), each (B, n_head, T, head_size)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, axis=2)
        # (B, T, C) -> (B, n_head, T, head_size): the heads become a batch dimension
        q = q.reshape(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.reshape(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.reshape(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        return q, k, v

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        B, T, C = x.shape
        q, k, v = self.heads(x)
        if cache is not None:  # sampling: attend to the stored keys and values of the earlier positions too
            if T > 1 and cache.length > 0:
                raise ValueError("a KV cache takes one new token at a time once it holds a prompt")
            k, v = cache.append(k, v)
        # softmax(q k^T / sqrt(head_size)) v, position i seeing keys 0..i (one new token sees them all);
        # in training a dropout on the attention weights, as nanoGPT
        dropout_p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=T > 1)
        y = y.transpose(1, 2).reshape(B, T, C)  # the heads side by side again
        return self.resid_dropout(self.c_proj(y))

    def attention_weights(self, x: Tensor) -> Tensor:
        """The causal attention weights (B, n_head, T, T) forward() uses for x (B, T, C), before dropout."""
        q, k, _ = self.heads(x)
        return F.attention_weights(q, k, is_causal=x.shape[1] > 1)


class MLP(Module):
    """Per position: widen 4x, GELU, project back."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(Module):
    """A pre-LayerNorm transformer block: communicate (attention), then compute (MLP), each as a residual."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class Transformer(Module):
    """The body of the GPT (nanoGPT's `transformer` ModuleDict): embeddings, blocks, final layer norm."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.wte = Embedding(config.vocab_size, config.n_embd)
        self.wpe = Embedding(config.block_size, config.n_embd)
        self.drop = Dropout(config.dropout)
        self.h = ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = LayerNorm(config.n_embd, bias=config.bias)


class GPT(LanguageModel):
    """Next-token logits for every position of a sequence of token ids, and sampling with a KV cache."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = Transformer(config)
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying: one matrix maps tokens to vectors and vectors back to token scores
        self.transformer.wte.weight = self.lm_head.weight
        self._init_weights()

    def _init_weights(self) -> None:
        """GPT-2's init: weights normal(0, 0.02), biases 0; residual projections scaled by 1/sqrt(2 n_layer).

        Each block adds two residual branches (attention and MLP) to the stream; the smaller init keeps the
        stream's variance from growing with depth.
        """
        rng = generator()
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                std = 0.02 / math.sqrt(2 * self.config.n_layer)
            elif p.ndim == 2:  # Linear and Embedding weights
                std = 0.02
            else:  # biases 0, LayerNorm weights 1, as they were built
                continue
            p.data[...] = rng.normal(0.0, std, size=p.shape)

    def get_num_params(self, non_embedding: bool = True) -> int:
        """Number of parameters; by default without the position embeddings (the token embedding counts, as
        it is also the output layer)."""
        n = sum(p.data.size for p in self.parameters())
        return n - self.transformer.wpe.weight.data.size if non_embedding else n

    def forward(
        self,
        idx: np.ndarray | Tensor,
        targets: np.ndarray | Tensor | None = None,
        caches: list[KVCache] | None = None,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Logits (B, T, vocab_size) for token ids idx (B, T); given targets (B, T), (logits, mean loss).

        Targets -1 are left out of the loss. With `caches` (one per block, used by generate) idx holds the
        positions after those already in the caches.
        """
        idx = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
        x = self.embed(idx, caches[0].length if caches else 0)
        tr = self.transformer
        for i, block in enumerate(tr.h):
            x = block(x, caches[i] if caches else None)
        logits = self.lm_head(tr.ln_f(x))
        if targets is None:
            return logits
        targets = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def embed(self, idx: np.ndarray, start: int = 0) -> Tensor:
        """The input of the first block (B, T, n_embd): token plus position embeddings of idx (B, T), whose
        first position is `start`."""
        if idx.ndim != 2 or idx.dtype.kind not in "iu":
            raise ValueError(f"GPT expects integer token ids of shape (batch, time), got {idx.dtype} "
                             f"{idx.shape}")
        T = idx.shape[1]
        if start + T > self.config.block_size:
            raise ValueError(f"cannot read a sequence of {start + T} tokens: the model's block_size is "
                             f"{self.config.block_size}; crop it to the last {self.config.block_size} tokens")
        tr = self.transformer
        return tr.drop(tr.wte(idx) + tr.wpe(np.arange(start, start + T)))  # (B, T, C) + (T, C)

    def attention_weights(self, idx: np.ndarray | Tensor, layer: int) -> np.ndarray:
        """The attention weights (n_head, T, T) of block `layer` reading token ids idx (T,) or (1, T).

        Row i holds how much position i attends to each position 0..i (each row sums to 1), computed by the
        same code as forward(), without recording a graph. Call model.eval() first: in training mode the
        dropout of the layers before `layer` applies, as in forward(); the weights themselves are never
        dropped here.
        """
        idx = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
        idx = idx[None] if idx.ndim == 1 else idx
        if idx.ndim != 2 or idx.shape[0] != 1:
            raise ValueError(f"attention_weights reads one sequence of token ids, shape (T,) or (1, T), got "
                             f"{idx.shape}")
        n_layer = self.config.n_layer
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < n_layer:
            raise ValueError(f"layer must be one of 0..{n_layer - 1} (the model has {n_layer} blocks), got "
                             f"{layer!r}")
        blocks = self.transformer.h
        with no_grad():
            x = self.embed(idx)
            for block in list(blocks)[:layer]:
                x = block(x)
            return blocks[layer].attn.attention_weights(blocks[layer].ln_1(x)).data[0]

    def next_logits_fn(self, exact_window: bool = False) -> Callable[[np.ndarray], np.ndarray]:
        """The next token's logits from the tokens so far, keeping the keys and values of earlier positions.

        Each new token costs one position's work, not a whole forward pass. When the context is full the
        caches restart from the last block_size // 2 tokens (position embeddings are absolute, so a sliding
        window must be recomputed); that keeps the average cost per token O(block_size). exact_window=True
        samples as nanoGPT does once the context is full: every token sees the last block_size tokens, at the
        cost of a whole forward pass per token.
        """
        block = self.config.block_size
        caches: list[KVCache] | None = None

        def next_logits(idx: np.ndarray) -> np.ndarray:
            nonlocal caches
            full = caches is not None and caches[0].length == block
            if full and exact_window:
                logits = self(idx[:, -block:])  # the caches stay full: every later token comes here too
            elif caches is None or full:  # (re)fill the caches from a window
                keep = block if caches is None else max(1, block // 2)
                caches = [KVCache(block) for _ in self.transformer.h]
                logits = self(idx[:, -keep:], caches=caches)
            else:
                logits = self(idx[:, -1:], caches=caches)
            return logits.data[:, -1, :]

        return next_logits
