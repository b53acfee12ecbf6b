"""gradschool.nn against torch.nn in float64 with copied weights: values, gradients, names, state_dict."""

import numpy as np
import pytest
import torch

import gradschool.nn as nn
from gradschool.tensor import Tensor, manual_seed

TOL = 1e-9


def to_torch(module: nn.Module, ref: torch.nn.Module) -> torch.nn.Module:
    """ref with module's weights, loaded by name: names and shapes must agree with PyTorch's."""
    ref = ref.double()
    ref.load_state_dict({k: torch.tensor(v) for k, v in module.state_dict().items()}, strict=True)
    return ref


def as_float64(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


def check_against_torch(module: nn.Module, ref: torch.nn.Module, x: np.ndarray, grad_input: bool = True):
    """Forward, and gradients of the input and every parameter for a random upstream gradient."""
    ref = to_torch(module, ref)
    xs = Tensor(x, requires_grad=grad_input)
    xt = torch.tensor(x, requires_grad=grad_input)
    out, want = module(xs), ref(xt)
    assert out.dtype == np.float64
    assert np.abs(out.data - want.detach().numpy()).max() <= TOL
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(upstream)
    want.backward(torch.tensor(upstream))
    if grad_input:
        assert np.abs(xs.grad - xt.grad.numpy()).max() <= TOL
    ref_params = dict(ref.named_parameters())
    assert [n for n, _ in module.named_parameters()] == list(ref_params)
    for name, p in module.named_parameters():
        assert np.abs(p.grad - ref_params[name].grad.numpy()).max() <= TOL, name


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(bias):
    layer = as_float64(nn.Linear(5, 3, bias=bias))
    assert layer.weight.shape == (3, 5)
    check_against_torch(layer, torch.nn.Linear(5, 3, bias=bias), randn(2, 4, 5))


def test_embedding_matches_torch():
    emb = nn.Embedding(7, 4, dtype=np.float64)
    ref = to_torch(emb, torch.nn.Embedding(7, 4))
    idx = np.array([[0, 3, 3], [6, 0, 1]])
    out, want = emb(idx), ref(torch.tensor(idx))
    assert np.abs(out.data - want.detach().numpy()).max() <= TOL
    upstream = randn(2, 3, 4)
    out.backward(upstream)
    want.backward(torch.tensor(upstream))
    assert np.abs(emb.weight.grad - ref.weight.grad.numpy()).max() <= TOL  # repeated id 3 and 0 add up


@pytest.mark.parametrize("bias", [True, False])
def test_layer_norm_matches_torch(bias):
    ln = nn.LayerNorm(6, bias=bias, dtype=np.float64)
    ln.weight.data[...] = randn(6, seed=2)  # not all ones, so a wrong weight gradient shows
    if bias:
        ln.bias.data[...] = randn(6, seed=3)
    assert [n for n, _ in ln.named_parameters()] == (["weight", "bias"] if bias else ["weight"])
    check_against_torch(ln, torch.nn.LayerNorm(6, bias=bias), randn(3, 2, 6))


@pytest.mark.parametrize("ours, theirs", [
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.GELU(), torch.nn.GELU(approximate="tanh")),
    (nn.Dropout(0.3).eval(), torch.nn.Dropout(0.3).eval()),
])
def test_activations_match_torch(ours, theirs):
    check_against_torch(ours, theirs, randn(4, 5) * 3)


def test_mlp_and_sequential_match_torch():
    manual_seed(0)
    mlp = nn.MLP(3, [8, 8, 2], activation=nn.Tanh, dtype=np.float64)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 2))
    check_against_torch(mlp, ref, randn(10, 3))
    relu = nn.MLP(2, [16, 16, 1], dtype=np.float64)  # rung 2's moons net: relu hidden, linear output
    assert [type(m).__name__ for m in relu] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]


def test_mlp_gradient_matches_central_differences():
    manual_seed(1)
    mlp = nn.MLP(3, [4, 2], activation=nn.Tanh, dtype=np.float64)
    x = randn(5, 3)

    def loss() -> Tensor:
        return (mlp(Tensor(x)) ** 2).sum()

    loss().backward()
    h = 1e-6
    for name, p in mlp.named_parameters():
        numeric = np.zeros_like(p.data)
        for i in np.ndindex(p.shape):
            old = p.data[i]
            p.data[i] = old + h
            up = loss().item()
            p.data[i] = old - h
            down = loss().item()
            p.data[i] = old
            numeric[i] = (up - down) / (2 * h)
        assert np.abs(p.grad - numeric).max() < 1e-6, name


class Net(nn.Module):
    """Nested modules, a ModuleList, and a parameter registered after a submodule."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 4)
        self.blocks = nn.ModuleList([nn.Sequential(nn.LayerNorm(4), nn.Linear(4, 4), nn.GELU())
                                     for _ in range(2)])
        self.scale = nn.Parameter(np.ones(4, dtype=np.float32))
        self.head = nn.Linear(4, 3, bias=False)

    def forward(self, idx):
        x = self.embed(idx)
        for block in self.blocks:
            x = x + block(x)
        return self.head(x * self.scale)


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(5, 4)
        self.blocks = torch.nn.ModuleList([
            torch.nn.Sequential(torch.nn.LayerNorm(4), torch.nn.Linear(4, 4),
                                torch.nn.GELU(approximate="tanh"))
            for _ in range(2)
        ])
        self.scale = torch.nn.Parameter(torch.ones(4))
        self.head = torch.nn.Linear(4, 3, bias=False)

    def forward(self, idx):
        x = self.embed(idx)
        for block in self.blocks:
            x = x + block(x)
        return self.head(x * self.scale)


def test_names_and_order_match_torch_and_model_matches():
    manual_seed(0)
    net = as_float64(Net())
    ref = TorchNet()
    names = [n for n, _ in net.named_parameters()]
    assert names == [n for n, _ in ref.named_parameters()]  # own parameters first: "scale" before "embed..."
    assert names[:3] == ["scale", "embed.weight", "blocks.0.0.weight"]
    assert [n for n, _ in net.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [type(m).__name__ for m in net.children()] == ["Embedding", "ModuleList", "Linear"]
    ref = to_torch(net, ref)
    idx = np.array([[1, 2, 4], [0, 0, 3]])
    out, want = net(idx), ref(torch.tensor(idx))
    assert np.abs(out.data - want.detach().numpy()).max() <= TOL
    out.sum().backward()
    want.sum().backward()
    ref_params = dict(ref.named_parameters())
    for name, p in net.named_parameters():
        assert np.abs(p.grad - ref_params[name].grad.numpy()).max() <= TOL, name


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(6, 4)
        self.lm_head = nn.Linear(4, 6, bias=False)
        self.wte.weight = self.lm_head.weight  # one matrix, two names


def test_tied_parameter_is_listed_once_under_its_first_name():
    model = Tied()
    assert model.wte.weight is model.lm_head.weight
    assert [n for n, _ in model.named_parameters()] == ["wte.weight"]
    assert len(list(model.parameters())) == 1
    assert list(model.state_dict()) == ["wte.weight"]
    new = np.full((6, 4), 0.5, dtype=np.float32)
    model.load_state_dict({"lm_head.weight": new})  # either name loads it
    assert np.array_equal(model.lm_head.weight.data, new)
    model.load_state_dict({"wte.weight": new * 2, "lm_head.weight": new * 2})  # as PyTorch's, both
    assert np.array_equal(model.wte.weight.data, new * 2)
    with pytest.raises(ValueError, match="lm_head.weight: the same .tied. parameter as wte.weight"):
        model.load_state_dict({"wte.weight": new, "lm_head.weight": new + 1})
    assert np.array_equal(model.wte.weight.data, new * 2)


def test_state_dict_round_trip_makes_equal_models():
    manual_seed(0)
    a = Net()
    sd = a.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["head.weight"][...] = 0  # a copy: changing it leaves the model alone
    assert np.abs(a.head.weight.data).max() > 0
    sd = a.state_dict()
    manual_seed(1)
    b = Net()
    assert not np.array_equal(a.head.weight.data, b.head.weight.data)
    b.load_state_dict(sd)
    idx = np.array([[1, 2, 3]])
    assert np.array_equal(a(idx).data, b(idx).data)
    assert all(np.array_equal(v, b.state_dict()[k]) for k, v in sd.items())


def test_load_state_dict_strict_errors_name_the_keys_and_leave_the_model_unchanged():
    manual_seed(0)
    model = Net()
    before = model.state_dict()
    sd = model.state_dict()
    for k in sd:
        sd[k] = sd[k] + 1  # would change every weight if anything were loaded
    sd["blocks.9.0.weight"] = sd.pop("blocks.1.0.weight")
    sd["head.weight"] = np.zeros((3, 5))
    with pytest.raises(ValueError) as e:
        model.load_state_dict(sd)
    message = str(e.value)
    assert "does not fit this Net" in message
    assert "missing keys (in the model, not in the state_dict): blocks.1.0.weight" in message
    assert "unexpected keys (in the state_dict, not in the model): blocks.9.0.weight" in message
    assert "shape mismatches: head.weight: model (3, 4), state_dict (3, 5)" in message
    assert "Nothing was loaded" in message
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_load_state_dict_non_strict_loads_what_matches():
    manual_seed(0)
    model = Net()
    sd = {"head.weight": np.ones((3, 4)), "extra.weight": np.ones(2)}
    with pytest.raises(ValueError, match="missing keys .*: scale, embed.weight"):
        model.load_state_dict(sd)
    result = model.load_state_dict(sd, strict=False)
    assert result.unexpected_keys == ["extra.weight"]
    assert "embed.weight" in result.missing_keys and "head.weight" not in result.missing_keys
    assert np.array_equal(model.head.weight.data, np.ones((3, 4), dtype=np.float32))
    assert model.head.weight.dtype == np.float32  # values take the parameter's dtype
    with pytest.raises(ValueError, match="shape mismatches: head.weight"):
        model.load_state_dict({"head.weight": np.ones(3)}, strict=False)


def test_train_and_eval_switch_dropout_everywhere():
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Dropout(0.5)))
    x = Tensor(np.ones((200, 4), dtype=np.float32))
    drop = model[1]
    assert model.training and drop[0].training
    y = drop(x).data
    assert set(np.unique(y)) == {0.0, 2.0}  # dropped, or kept and scaled by 1/(1-p)
    assert model.eval() is model
    assert not model.training and not drop[0].training
    assert np.array_equal(drop(x).data, x.data)
    model.train()
    assert drop[0].training


def test_zero_grad_and_parameter_data_assignment():
    layer = nn.Linear(3, 2)
    layer(Tensor(np.ones((1, 3), dtype=np.float32))).sum().backward()
    assert layer.weight.grad is not None
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None
    layer.weight.data = np.zeros((2, 3))  # a new array (here float64) replaces the values
    assert layer(Tensor(np.ones((1, 3)))).dtype == np.float64


def test_init_is_torch_like_and_seeded():
    manual_seed(0)
    a = nn.Linear(100, 50)
    bound = 1 / np.sqrt(100)
    assert a.weight.dtype == np.float32 and np.abs(a.weight.data).max() <= bound
    assert a.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)  # uniform(-b, b)
    assert nn.Embedding(100, 50).weight.data.std() == pytest.approx(1.0, rel=0.05)
    manual_seed(0)
    assert np.array_equal(nn.Linear(100, 50).weight.data, a.weight.data)
    ln = nn.LayerNorm(5)
    assert np.array_equal(ln.weight.data, np.ones(5)) and np.array_equal(ln.bias.data, np.zeros(5))


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(np.zeros(3, dtype=np.float64))
    assert isinstance(p, Tensor) and p.requires_grad and p.dtype == np.float64
    assert repr(p).startswith("Parameter(")
    with pytest.raises(TypeError, match="only floating-point"):
        nn.Parameter(np.zeros(3, dtype=np.int64))


def test_bad_use_gets_clear_errors():
    class Forgot(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first in Forgot.__init__"):
        Forgot()
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign a ndarray to parameter 'weight' of Linear"):
        layer.weight = np.zeros((2, 2))
    layer.bias = None  # allowed: no bias any more
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="ModuleList holds Modules, got a int"):
        nn.ModuleList([nn.ReLU(), 3])
    with pytest.raises(ValueError, match=r"LayerNorm\(4\) got an input of shape \(2, 3\)"):
        nn.LayerNorm(4)(Tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="Dropout probability must be between 0 and 1, got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(1)


def test_repr_shows_the_tree():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.LayerNorm(3, bias=False))))
    assert text == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): LayerNorm(3, eps=1e-05, bias=False)\n"
        "  )\n"
        ")"
    )
