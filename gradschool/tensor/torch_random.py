"""PyTorch's CPU random numbers, computed with NumPy: the same draws as torch.manual_seed(seed) gives.

torch's CPU generator is a Mersenne Twister (MT19937) seeded the classic way, the same algorithm as NumPy's
MT19937, so a NumPy bit generator set to torch's starting state yields torch's 32-bit draws. On top of them
torch turns draws into numbers with a few simple rules, written out here:

- randint(low, high): one draw per number, `draw % (high - low) + low` (two draws, the high bits first,
  when high - low >= 2**32);
- uniform_ on float32: one draw per number, its low 24 bits scaled to [0, 1);
- normal_ on float32 (16 numbers or more): one uniform per number, then Box-Muller on blocks of 16, the first
  8 of a block paired with the last 8; a tail that is not a whole block is drawn again as the last 16.

Replaying nanoGPT's run needs nothing more (its init, torch.randint batches); torch itself is not needed.
The integers and uniforms are torch's exactly; the normals agree to a few float32 ulps (torch's vectorized
log, sin and cos round a little differently).
"""

import numpy as np

_MASK_24 = np.uint64((1 << 24) - 1)


def _mt19937_key(seed: int) -> np.ndarray:
    """The 624-word state that MT19937's reference seeding (init_genrand) makes from a seed, as in torch."""
    key = [seed & 0xFFFFFFFF]
    for i in range(1, 624):
        prev = key[-1]
        key.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xFFFFFFFF)
    return np.array(key, dtype=np.uint32)


class TorchGenerator:
    """The draws of torch's CPU generator after torch.manual_seed(seed), in the order they are asked for.

    `integers(low, high, size)` follows torch.randint, so it can stand in for an np.random.Generator when
    drawing batches; `bit_generator.state` is a plain dict that a checkpoint can store and restore.
    """

    def __init__(self, seed: int):
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.bit_generator = np.random.MT19937()
        self.bit_generator.state = {
            "bit_generator": "MT19937", "state": {"key": _mt19937_key(int(seed)), "pos": 624}}

    def _draws(self, n: int) -> np.ndarray:
        """n 32-bit draws (random_raw gives them as uint64)."""
        return self.bit_generator.random_raw(n)

    def integers(self, low: int, high: int, size: int | tuple[int, ...]) -> np.ndarray:
        """torch.randint(low, high, size): int64 numbers in [low, high), each `draw % (high - low) + low`."""
        span = high - low
        if span < 1:
            raise ValueError(f"integers needs low < high, got low={low}, high={high}")
        n = int(np.prod(size))
        if span < 2**32:
            draws = self._draws(n)
        else:  # torch's random64(): two draws, the first the high 32 bits
            pairs = self._draws(2 * n).reshape(n, 2)
            draws = (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]
        return (draws % np.uint64(span)).astype(np.int64).reshape(size) + low

    def uniform(self, low: float, high: float, shape: tuple[int, ...]) -> np.ndarray:
        """tensor.uniform_(low, high) on a float32 tensor of this shape."""
        u = (self._draws(int(np.prod(shape))) & _MASK_24).astype(np.float32) * np.float32(2.0**-24)
        return (u * np.float32(high - low) + np.float32(low)).reshape(shape)

    def normal(self, mean: float, std: float, shape: tuple[int, ...]) -> np.ndarray:
        """tensor.normal_(mean, std) on a contiguous float32 tensor of this shape (16 numbers or more)."""
        n = int(np.prod(shape))
        if n < 16:
            raise ValueError(
                f"a tensor of {n} numbers: torch draws normals for fewer than 16 another way, which is not "
                "reproduced here; use sizes of at least 16 numbers")
        u = self.uniform(0.0, 1.0, (n,)).astype(np.float64)
        out = np.empty(n)
        whole = n - n % 16
        out[:whole] = _box_muller_blocks(u[:whole])
        if n % 16:  # the last 16 numbers are drawn again and computed as one block
            out[n - 16:] = _box_muller_blocks(self.uniform(0.0, 1.0, (16,)).astype(np.float64))
        return (out * std + mean).astype(np.float32).reshape(shape)


def _box_muller_blocks(u: np.ndarray) -> np.ndarray:
    """Standard normals from uniforms in blocks of 16: u1 from the first 8 of a block, u2 from the last 8."""
    blocks = u.reshape(-1, 2, 8)
    radius = np.sqrt(-2.0 * np.log(1.0 - blocks[:, 0]))  # 1 - u maps [0, 1) to (0, 1], safe for log
    theta = 2.0 * np.pi * blocks[:, 1]
    return np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1).reshape(-1)
