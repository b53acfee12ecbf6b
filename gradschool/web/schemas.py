"""The shapes of the API: what each endpoint and websocket accepts and answers, and plain-language errors.

Every request model is `Strict`: unknown fields, NaN and infinities are refused. A validation error becomes
one sentence per problem naming the field and what it allows (see `plain_errors`), never a raw pydantic path.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gradschool.web import expr


class Strict(BaseModel):
    """A request: no unknown fields, and numbers must be finite (NaN, Infinity and 1e400 are refused)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Number = Annotated[float, Field(ge=-10, le=10)]
NAME_RULE = "a letter, then up to 15 letters, digits or _"
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$")]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]


# --- chapters 1-2: the first seed's demos ---

class NeuronIn(Strict):
    w1: Number = 0.5
    w2: Number = -0.3
    b: Number = 0.0
    x1: Number = 0.5
    x2: Number = -0.3


class NeuronOut(BaseModel):
    raw: float
    out: float
    grads: dict[str, float]


class ForwardIn(Strict):
    x: Annotated[list[Number], Field(min_length=2, max_length=2)] = [1.0, -2.0]
    seed: Seed = 42


class ForwardOut(BaseModel):
    layers: list[list[float]]
    weights: list[list[list[float]]]
    biases: list[list[float]]


class DescentIn(Strict):
    w: Annotated[float, Field(ge=-1000, le=1000)] = 3.0
    lr: Annotated[float, Field(ge=0, le=5)] = 0.1


class DescentOut(BaseModel):
    w: float
    loss: float
    grad: float
    new_w: float
    new_loss: float
    diverging: bool
    curve: list[list[float]]


class DerivativeIn(Strict):
    x: Annotated[float, Field(ge=-3, le=3)] = 1.0


class DerivativeOut(BaseModel):
    x: float
    f: float
    dfdx: float
    curve: list[list[float]]


class GraphIn(Strict):
    expression: Annotated[str, Field(max_length=expr.MAX_LENGTH)] = "tanh(a*b + a)"
    variables: Annotated[dict[Name, Annotated[float, Field(ge=-100, le=100)]], Field(max_length=8)] = {
        "a": 2.0, "b": -3.0}


class Term(BaseModel):
    parent: int
    local: float
    upstream: float


class Node(BaseModel):
    id: int
    label: str
    op: str
    data: float
    grad: float
    children: list[int]
    terms: list[Term]


class GraphOut(BaseModel):
    nodes: list[Node]
    root: int
    backward_order: list[int]


# --- chapter 2, the /api/train websocket (live training) ---

class TinyConfig(Strict):
    task: Literal["tiny"] = "tiny"
    lr: Annotated[float, Field(gt=0, le=2)] = 0.01
    seed: Seed = 1337


class MoonsConfig(Strict):
    task: Literal["moons"] = "moons"
    hidden: Annotated[list[Annotated[int, Field(ge=1, le=16)]], Field(min_length=1, max_length=3)] = [8, 8]
    activation: Literal["tanh", "relu"] = "relu"
    lr: Annotated[float, Field(gt=0, le=5)] = 0.1
    batch_size: Annotated[int, Field(ge=1, le=100)] = 20
    noise: Annotated[float, Field(ge=0, le=0.5)] = 0.1
    seed: Seed = 1


TASKS = ("tiny", "moons")  # the tags of the Command's config: pydantic puts them in an error's location


class Command(Strict):
    """A message from the Training page: reset (with a config), step, play, pause or set the learning rate."""

    type: Literal["reset", "step", "play", "pause", "lr"]
    config: Annotated[TinyConfig | MoonsConfig, Field(discriminator="task")] | None = None
    lr: float | None = None  # checked against the job's own config limit (TinyConfig, MoonsConfig)


# --- chapter 9, language models ---

ModelName = Annotated[str, Field(min_length=1, max_length=200)]
Prompt = Annotated[str, Field(max_length=200)]
Temperature = Annotated[float, Field(gt=0, le=5)]
TopK = Annotated[int, Field(ge=1, le=1000)] | None
TopP = Annotated[float, Field(gt=0, le=1)] | None  # nucleus sampling; None: every token


class SampleIn(Strict):
    model: ModelName
    prompt: Prompt = ""
    temperature: Temperature = 1.0
    top_k: TopK = None
    top_p: TopP = None
    num: Annotated[int, Field(ge=1, le=20)] = 5
    max_new_tokens: Annotated[int, Field(ge=1, le=500)] = 100
    seed: Seed = 1337


class NextIn(Strict):
    model: ModelName
    prompt: Prompt = ""
    temperature: Temperature = 1.0
    top_k: TopK = None
    top_p: TopP = None


class AttentionIn(Strict):
    model: ModelName
    prompt: Prompt
    layer: Annotated[int, Field(ge=0, le=64)] = 0
    head: Annotated[int, Field(ge=0, le=64)] = 0


class ModelInfo(BaseModel):
    name: str
    kind: str
    data: str
    vocab_size: int
    block_size: int | None
    n_layer: int
    n_head: int
    boundary: str | None
    iter_num: int
    val_loss: float | None


class SampleOut(BaseModel):
    samples: list[str]


class Choice(BaseModel):
    char: str
    end: bool  # the boundary token: the end of a name
    prob: float


class NextOut(BaseModel):
    tokens: list[str]
    choices: list[Choice]


class AttentionOut(BaseModel):
    tokens: list[str]
    weights: list[list[float]]


class TrainStart(Strict):
    """A message to the /api/lm/train websocket: start a tiny GPT's training, or cancel it."""

    type: Literal["start", "cancel"]
    data: Literal["names", "shakespeare"] = "names"
    steps: Annotated[int, Field(ge=25, le=2000)] = 300
    n_layer: Annotated[int, Field(ge=1, le=2)] = 1
    n_embd: Annotated[int, Field(ge=16, le=64, multiple_of=16)] = 32
    seed: Seed = 1337


class ErrorOut(BaseModel):
    """A refused request: `detail` says what is wrong and what is allowed, `errors` lists it per field."""

    detail: str
    position: int | None = None
    errors: list[dict[str, str]] = []


# --- plain-language validation errors ---

WHERE = ("body", "query", "path", "header")  # FastAPI's first location part: not a field


def about_a_key(loc: tuple) -> bool:
    """Whether pydantic's error is about a dict's key (its loc ends in "[key]" after the key and the dict),
    not about a field a user happened to name "[key]"."""
    return len(loc) >= 3 and loc[-1] == "[key]"


def field_label(loc: tuple) -> str:
    """The field an error is about as the user wrote it: lr, x[0], config.hidden[1], variable 'a'."""
    loc = loc[:-1] if about_a_key(loc) else loc
    parts = [p for i, p in enumerate(loc) if not (i == 0 and p in WHERE) and p not in TASKS]
    if parts[:1] == ["variables"] and len(parts) == 2:
        return f"variable {parts[1]!r}"
    label = ""
    for p in parts:
        label += f"[{p}]" if isinstance(p, int) else (f".{p}" if label else str(p))
    return label


def plain_message(error: dict, whole: str = "the request body") -> str:
    """One pydantic error as a sentence saying which field is wrong and what it allows."""
    kind, ctx, label = error["type"], error.get("ctx") or {}, field_label(tuple(error["loc"]))
    it = label or whole
    if about_a_key(tuple(error["loc"])) and kind != "extra_forbidden":
        return f"{error['loc'][-2]!r} is not allowed as a name in {error['loc'][-3]}: use {NAME_RULE}"
    simple = {
        "missing": f"{it} is required" if label else f"{whole} must be a JSON object",
        "extra_forbidden": f"{it} is not a field this request knows; remove it",
        "finite_number": f"{it} must be a finite number (not NaN or infinity)",
        "float_parsing": f"{it} must be a number", "float_type": f"{it} must be a number",
        "int_parsing": f"{it} must be a whole number", "int_type": f"{it} must be a whole number",
        "int_from_float": f"{it} must be a whole number", "bool_type": f"{it} must be true or false",
        "bool_parsing": f"{it} must be true or false", "string_type": f"{it} must be text (a JSON string)",
        "list_type": f"{it} must be a list", "dict_type": f"{it} must be a JSON object",
        "model_type": f"{it} must be a JSON object", "model_attributes_type": f"{it} must be a JSON object",
        "union_tag_not_found": f"{it} needs a {ctx.get('discriminator', 'task')} field",
    }
    if kind in simple:
        return simple[kind]
    bounds = {"greater_than_equal": ("at least", "ge"), "greater_than": ("greater than", "gt"),
              "less_than_equal": ("at most", "le"), "less_than": ("less than", "lt"),
              "multiple_of": ("a multiple of", "multiple_of")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"{it} must be {words} {ctx.get(key)}"
    if kind == "string_too_long":
        return f"{it} may be at most {ctx.get('max_length')} characters long"
    if kind == "string_too_short":
        return f"{it} must be at least {ctx.get('min_length')} characters long"
    if kind == "too_long":
        return f"{it} may have at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"{it} needs at least {ctx.get('min_length')} items"
    if kind in ("literal_error", "enum"):
        return f"{it} must be one of {ctx.get('expected')}"
    if kind == "union_tag_invalid":
        tag = ctx.get("discriminator", "'task'").strip("'")
        return f"{it}.{tag} must be one of {ctx.get('expected_tags')}"
    if kind == "json_invalid":
        return f"{whole} is not valid JSON ({ctx.get('error', 'cannot parse it')})"
    return f"{it}: {error['msg'].replace('Input should be', 'must be')}"


def plain_errors(errors: list[dict[str, Any]], whole: str = "the request body") -> dict:
    """A 422 body for pydantic errors: `detail` is one readable string, `errors` the same per field.

    `whole` names what was sent, for errors about all of it ("the request body", "the message").
    """
    items = [{"field": "" if e["type"] == "json_invalid" else field_label(tuple(e["loc"])),
              "message": plain_message(e, whole)} for e in errors]
    return {"detail": "; ".join(i["message"] for i in items), "position": None, "errors": items}
