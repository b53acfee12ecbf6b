"""A tiny recursive-descent parser that turns text like "tanh(a*b + a)" into a graph of Values.

Grammar (never `eval`; anything else is an error with its position):

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := "-" unary | power
    power  := atom (("^" | "**") unary)?
    atom   := NUMBER | NAME | FUNC "(" expr ")" | "(" expr ")"
"""

import math
import re
from collections.abc import Callable

from gradschool.scalar.engine import Value

MAX_LENGTH = 200
MAX_NODES = 80
MAX_DEPTH = 30
MAX_NUMBER = 1e6
FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "tanh": Value.tanh,
    "exp": Value.exp,
    "log": Value.log,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
}
NUMBER = r"\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?"
TOKEN = re.compile(rf"\s*(?:({NUMBER})|([A-Za-z][A-Za-z0-9_]*)|(\*\*|[-+*/^()]))")


class ExprError(ValueError):
    """A problem in the user's expression, with the 0-based character position where it was found (if any)."""

    def __init__(self, message: str, position: int | None):
        super().__init__(message if position is None else f"{message} (at position {position})")
        self.message = message
        self.position = position


def tokenize(text: str) -> list[tuple[str, str, int]]:
    """Split text into (kind, text, position) tokens; kind is "num", "name", "op" or "end"."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}", MAX_LENGTH)
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        if m is None:
            bad = pos + len(text[pos:]) - len(text[pos:].lstrip())
            raise ExprError(f"unexpected character {text[bad]!r}; use numbers, names, + - * / ^ and ( )", bad)
        start = m.start(m.lastindex)
        kind = ("num", "name", "op")[m.lastindex - 1]
        tokens.append((kind, m.group(m.lastindex), start))
        pos = m.end()
    tokens.append(("end", "", len(text)))
    return tokens


class Parser:
    """Builds Values while it reads; `variables` maps each allowed name to its number."""

    def __init__(self, text: str, variables: dict[str, float]):
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.leaves = {name: Value(float(v), label=name) for name, v in variables.items()}
        self.nodes = 0
        self.constants: dict[int, Value] = {}  # Values that hold no variable (like the 2 in x^2), by id

    def parse(self) -> Value:
        if self.tokens[0][0] == "end":
            raise ExprError("the expression is empty; try tanh(a*b + a)", 0)
        out = self.expr()
        kind, text, pos = self.tokens[self.i]
        if kind != "end":
            raise ExprError(f"unexpected {text!r} after a complete expression", pos)
        return out

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def made(self, v: Value, pos: int) -> Value:
        """Count a new node and check that its number is finite."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExprError(f"the expression makes more than {MAX_NODES} nodes; write a smaller one", pos)
        if not isinstance(v.data, float | int) or not math.isfinite(v.data):
            raise ExprError("this operation gives a result that is not a finite real number", pos)
        return v

    def apply(self, op: Callable[[], Value], pos: int, *inputs: Value) -> Value:
        """Run one engine operation on inputs, turning math errors into ExprError at pos."""
        try:
            out = self.made(op(), pos)
        except ExprError:
            raise
        except (ValueError, ZeroDivisionError, OverflowError) as e:
            raise ExprError(f"math error: {e}", pos) from None
        except TypeError:  # the engine refuses a complex number, as in (-8)^0.5
            raise ExprError("this operation gives a result that is not a finite real number", pos) from None
        if all(id(v) in self.constants for v in inputs):
            self.constants[id(out)] = out
        return out

    def constant(self, number: float, pos: int) -> Value:
        v = self.made(Value(number), pos)
        self.constants[id(v)] = v
        return v

    def binary(self, op: str, left: Value, right: Value, pos: int) -> Value:
        ops = {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
               "/": lambda: left / right}
        return self.apply(ops[op], pos, left, right)

    def expr(self) -> Value:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"the expression nests deeper than {MAX_DEPTH} levels", self.peek()[2])
        out = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            _, op, pos = self.take()
            out = self.binary(op, out, self.term(), pos)
        self.depth -= 1
        return out

    def term(self) -> Value:
        out = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            _, op, pos = self.take()
            out = self.binary(op, out, self.unary(), pos)
        return out

    def unary(self) -> Value:
        kind, text, pos = self.peek()
        if kind == "op" and text == "-":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExprError(f"the expression nests deeper than {MAX_DEPTH} levels", pos)
            inner = self.unary()
            self.depth -= 1
            if id(inner) in self.constants:  # fold "-2" into one number
                return self.constant(-inner.data, pos)
            return self.apply(lambda: -inner, pos, inner)
        return self.power()

    def power(self) -> Value:
        base = self.atom()
        kind, text, pos = self.peek()
        if kind == "op" and text in ("^", "**"):
            self.take()
            exponent = self.unary()
            # A constant exponent is a plain number, as in micrograd's `x**2`.
            power = exponent.data if id(exponent) in self.constants else exponent
            return self.apply(lambda: base**power, pos, base, exponent)
        return base

    def atom(self) -> Value:
        kind, text, pos = self.take()
        if kind == "num":
            number = float(text)
            if abs(number) > MAX_NUMBER:
                raise ExprError(f"the number {text} is too large; keep numbers within ±{MAX_NUMBER:g}", pos)
            return self.constant(number, pos)
        if kind == "name":
            if self.peek()[1] == "(":
                if text not in FUNCTIONS:
                    known = ", ".join(FUNCTIONS)
                    raise ExprError(f"unknown function {text!r}; the functions are {known}", pos)
                self.take()
                inner = self.expr()
                self.expect(")", "to close the function call")
                return self.apply(lambda: FUNCTIONS[text](inner), pos, inner)
            if text not in self.leaves:
                known = ", ".join(self.leaves) or "none"
                raise ExprError(f"unknown variable {text!r}; give it a value (defined: {known})", pos)
            return self.leaves[text]
        if kind == "op" and text == "(":
            inner = self.expr()
            self.expect(")", "to match the '('")
            return inner
        what = "the end of the expression" if kind == "end" else repr(text)
        raise ExprError(f"expected a number, a variable, a function or '(' but found {what}", pos)

    def expect(self, text: str, why: str) -> None:
        kind, found, pos = self.take()
        if found != text or kind != "op":
            what = "the end" if kind == "end" else repr(found)
            raise ExprError(f"expected {text!r} {why} but found {what}", pos)


def parse(text: str, variables: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """Parse text into a Value graph; returns the root and the named leaf Values."""
    parser = Parser(text, variables)
    root = parser.parse()
    if not root.label:
        root.label = "out" if "e" in variables else "e"
    return root, parser.leaves
