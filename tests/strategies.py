"""Hypothesis strategies shared by the tests: array shapes for the Tensor engine's ops."""

from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

pair_shapes = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=4)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
nonempty_shapes = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def shape_and_axis(draw, min_side=0):
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=min_side, max_side=4))
    axes = st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True).map(tuple)
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1), axes))
    return shape, axis, draw(st.booleans())


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(0, 4)), draw(st.integers(1, 4))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3))
    a = (k,) if draw(st.booleans()) else batch.input_shapes[0] + (n, k)
    b = (k,) if draw(st.booleans()) else batch.input_shapes[1] + (k, m)
    return a, b
