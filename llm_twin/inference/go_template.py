"""A small renderer for the subset of Go's text/template that Ollama chat templates use.

Ollama renders a Modelfile's TEMPLATE with Go's text/template; the GGUF stores the model's chat template
as Jinja. Go is not needed to check that both give the same prompt: this renderer implements the subset
the twin's Modelfile emits (and most Ollama chat templates use), strictly, so anything outside it is an
error instead of a silent difference:

- text, `{{ pipeline }}`, trim markers `{{- ` and ` -}}`, comments `{{/* ... */}}`
- `if` / `else if` / `else` / `end`, `range $i, $m := pipeline` / `range pipeline` (with `else`)
- operands: `.`, `.Field.Sub`, `$`, `$var.Field`, string / raw-string / number / bool literals,
  `( ... )`; functions `and or not eq ne lt le gt ge len index slice`
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class TemplateError(ValueError):
    pass


# -- lexing --------------------------------------------------------------------------------------------

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


def _segments(source: str) -> list[tuple[str, str]]:
    """[("text", s) | ("action", s)] with trim markers applied to the neighbouring text."""
    out: list[tuple[str, str]] = []
    pos = 0
    trim_next = False
    for m in _ACTION.finditer(source):
        text = source[pos:m.start()]
        if trim_next:
            text = text.lstrip(" \t\r\n")
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        if text:
            out.append(("text", text))
        body = m.group(2).strip()
        if not (body.startswith("/*") and body.endswith("*/")):
            out.append(("action", body))
        trim_next = bool(m.group(3))
        pos = m.end()
    text = source[pos:]
    if trim_next:
        text = text.lstrip(" \t\r\n")
    if "{{" in text:
        raise TemplateError(f"unclosed action near {text[text.index('{{'):][:30]!r}")
    if text:
        out.append(("text", text))
    return out


_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<num>-?\d+(?:\.\d+)?)'
                    r"|(?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
                    r"|(?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)"
                    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),]|:=))")


def _tokens(expr: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"unsupported syntax at {expr[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


# -- parsing ---------------------------------------------------------------------------------------------


@dataclass
class Expr:
    kind: str  # call | literal | field | var
    value: Any = None
    args: list[Expr] = field(default_factory=list)


@dataclass
class Node:
    kind: str  # text | out | if | range
    text: str = ""
    expr: Expr | None = None
    variables: list[str] = field(default_factory=list)
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)


def _unquote(tok: tuple[str, str]) -> str:
    kind, value = tok
    if kind == "raw":
        return value[1:-1]
    return bytes(value[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def _parse_expr(tokens: list[tuple[str, str]]) -> Expr:
    expr, rest = _parse_command(tokens)
    if rest:
        raise TemplateError(f"unexpected {rest[0][1]!r}")
    return expr


def _parse_command(tokens: list[tuple[str, str]]) -> tuple[Expr, list[tuple[str, str]]]:
    if not tokens:
        raise TemplateError("empty pipeline")
    operands: list[Expr] = []
    while tokens and tokens[0][1] != ")":
        op, tokens = _parse_operand(tokens)
        operands.append(op)
    if operands[0].kind == "ident":
        return Expr("call", operands[0].value, operands[1:]), tokens
    if len(operands) != 1:
        raise TemplateError("only a function can take arguments")
    return operands[0], tokens


def _parse_operand(tokens: list[tuple[str, str]]) -> tuple[Expr, list[tuple[str, str]]]:
    kind, value = tokens[0]
    rest = tokens[1:]
    if value == "(":
        inner, rest = _parse_command(rest)
        if not rest or rest[0][1] != ")":
            raise TemplateError("unclosed parenthesis")
        return inner, rest[1:]
    if kind in ("str", "raw"):
        return Expr("literal", _unquote((kind, value))), rest
    if kind == "num":
        return Expr("literal", float(value) if "." in value else int(value)), rest
    if kind == "ident":
        if value in ("true", "false"):
            return Expr("literal", value == "true"), rest
        if value == "nil":
            return Expr("literal", None), rest
        if value not in _FUNCS and value not in ("and", "or"):
            raise TemplateError(f"unknown function {value!r}")
        return Expr("ident", value), rest
    if kind == "field":
        return Expr("field", [p for p in value.split(".") if p]), rest
    if kind == "var":
        name, *path = value.split(".")
        return Expr("var", (name, path)), rest
    raise TemplateError(f"unexpected {value!r}")


def parse(source: str) -> list[Node]:
    segments = _segments(source)
    nodes, _, _ = _parse_block(segments, 0, top=True)
    return nodes


def _parse_block(segs: list[tuple[str, str]], i: int, top: bool = False) -> tuple[list[Node], int, str]:
    nodes: list[Node] = []
    while i < len(segs):
        kind, body = segs[i]
        if kind == "text":
            nodes.append(Node("text", text=body))
            i += 1
            continue
        word = body.split(None, 1)[0] if body else ""
        rest = body[len(word):].strip()
        if word in ("end", "else"):
            if top:
                raise TemplateError(f"unexpected {{{{ {body} }}}}")
            return nodes, i, body
        if word == "if":
            node, i = _parse_if(segs, i, rest)
            nodes.append(node)
        elif word == "range":
            tokens = _tokens(rest)
            variables: list[str] = []
            if any(t[1] == ":=" for t in tokens):
                at = [t[1] for t in tokens].index(":=")
                variables = [t[1] for t in tokens[:at] if t[1] != ","]
                if not variables or len(variables) > 2 or any(not v.startswith("$") for v in variables):
                    raise TemplateError(f"bad range declaration {rest!r}")
                tokens = tokens[at + 1:]
            body_nodes, i, closer = _parse_block(segs, i + 1)
            orelse: list[Node] = []
            if closer == "else":
                orelse, i, closer = _parse_block(segs, i + 1)
            if closer != "end":
                raise TemplateError("range without end")
            nodes.append(Node("range", expr=_parse_expr(tokens), variables=variables, body=body_nodes, orelse=orelse))
            i += 1
        elif word in ("with", "define", "template", "block", "break", "continue"):
            raise TemplateError(f"{{{{ {word} }}}} is outside the supported subset")
        else:
            nodes.append(Node("out", expr=_parse_expr(_tokens(body))))
            i += 1
    if not top:
        raise TemplateError("missing {{ end }}")
    return nodes, i, ""


def _parse_if(segs: list[tuple[str, str]], i: int, cond: str) -> tuple[Node, int]:
    body, i, closer = _parse_block(segs, i + 1)
    node = Node("if", expr=_parse_expr(_tokens(cond)), body=body)
    if closer.startswith("else if"):
        sub, i = _parse_if(segs, i, closer[len("else if"):].strip())
        node.orelse = [sub]
        return node, i  # the nested if consumed the shared {{ end }}
    if closer == "else":
        node.orelse, i, closer = _parse_block(segs, i + 1)
    if closer != "end":
        raise TemplateError("if without end")
    return node, i + 1


# -- evaluation ------------------------------------------------------------------------------------------


def truth(value: Any) -> bool:
    return not (value is None or value is False or value == 0 or (hasattr(value, "__len__") and len(value) == 0))


def _field(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        if name not in value:
            raise TemplateError(f"no field {name!r} in {sorted(value)}")
        return value[name]
    if not hasattr(value, name):
        raise TemplateError(f"no field {name!r} on {type(value).__name__}")
    return getattr(value, name)


def _eq(a: Any, *others: Any) -> bool:
    return any(a == b for b in others)


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        value = value[key]
    return value


def _slice(value: Sequence, *bounds: int) -> Sequence:
    if len(bounds) > 2:
        raise TemplateError("slice takes at most two indexes here")
    start = bounds[0] if bounds else None
    stop = bounds[1] if len(bounds) == 2 else None
    return value[start:stop]


_FUNCS: dict[str, Callable[..., Any]] = {
    "not": lambda v: not truth(v), "eq": _eq, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "len": len,
    "index": _index, "slice": _slice,
}


class _Scope:
    def __init__(self, root: Any) -> None:
        self.frames: list[dict[str, Any]] = [{"$": root}]

    def get(self, name: str) -> Any:
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        raise TemplateError(f"undefined variable {name}")


def _eval(expr: Expr, dot: Any, scope: _Scope) -> Any:
    if expr.kind == "literal":
        return expr.value
    if expr.kind == "field":
        value = dot
        for name in expr.value:
            value = _field(value, name)
        return value
    if expr.kind == "var":
        name, path = expr.value
        value = scope.get(name)
        for part in path:
            value = _field(value, part)
        return value
    if expr.kind == "call":
        name = expr.value
        if name in ("and", "or"):  # short-circuit, returning the deciding argument like Go
            value = None
            for arg in expr.args:
                value = _eval(arg, dot, scope)
                if truth(value) != (name == "and"):
                    return value
            return value
        return _FUNCS[name](*(_eval(arg, dot, scope) for arg in expr.args))
    raise TemplateError(f"cannot evaluate {expr.kind}")


def _show(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _run(nodes: list[Node], dot: Any, scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
            continue
        if node.expr is None:  # the parser gives every action an expression
            raise TemplateError(f"{node.kind} action without an expression")
        if node.kind == "out":
            out.append(_show(_eval(node.expr, dot, scope)))
        elif node.kind == "if":
            _run(node.body if truth(_eval(node.expr, dot, scope)) else node.orelse, dot, scope, out)
        elif node.kind == "range":
            items = _eval(node.expr, dot, scope)
            pairs = list(items.items()) if isinstance(items, Mapping) else list(enumerate(items or []))
            if not pairs:
                _run(node.orelse, dot, scope, out)
            for key, item in pairs:
                frame: dict[str, Any] = {}
                if len(node.variables) == 1:
                    frame[node.variables[0]] = item
                elif len(node.variables) == 2:
                    frame[node.variables[0]], frame[node.variables[1]] = key, item
                scope.frames.append(frame)
                try:
                    _run(node.body, item, scope, out)
                finally:
                    scope.frames.pop()


def render(source: str, data: Any) -> str:
    """Render `source` with `data` as the dot (dicts stand in for Go structs)."""
    out: list[str] = []
    _run(parse(source), data, _Scope(data), out)
    return "".join(out)
