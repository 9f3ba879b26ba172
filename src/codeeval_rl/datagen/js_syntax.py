"""Reading JavaScript with tree-sitter: the parser, small tree helpers, literal argument
lists and JSDoc comments. Pure functions of text; nothing here runs code.

The grammar is ``tree-sitter-javascript`` (JavaScript, ES modules and JSX); a file that does
not parse cleanly is reported by :func:`syntax_error_line`, never repaired.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache

from codeeval_rl.errors import MissingDependency

__all__ = [
    "is_literal",
    "jsdoc_params",
    "leading_doc",
    "literal_args",
    "literal_text",
    "node_text",
    "param_types",
    "parse",
    "pattern_names",
    "syntax_error_line",
    "walk",
]


def _language():  # type: ignore[no-untyped-def]
    try:
        import tree_sitter
        import tree_sitter_javascript
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise MissingDependency(
            "the JavaScript path needs tree-sitter and tree-sitter-javascript: "
            "pip install 'tree-sitter>=0.26' 'tree-sitter-javascript>=0.25'") from exc
    return tree_sitter, tree_sitter.Language(tree_sitter_javascript.language())


@lru_cache(maxsize=1)
def _parser():  # type: ignore[no-untyped-def]
    ts, lang = _language()
    return ts.Parser(lang)


def parse(text: str):  # type: ignore[no-untyped-def]
    """The tree-sitter tree of ``text`` (error-tolerant: check :func:`syntax_error_line`)."""
    return _parser().parse(text.encode("utf-8"))


def syntax_error_line(tree) -> int | None:  # type: ignore[no-untyped-def]
    """The 1-based line of the first ERROR or MISSING node, or None when the tree is clean."""
    if not tree.root_node.has_error:
        return None
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return int(node.start_point[0]) + 1
        if node.has_error:
            stack.extend(reversed(node.children))
    return int(tree.root_node.start_point[0]) + 1


def node_text(node) -> str:  # type: ignore[no-untyped-def]
    """The source text of a node."""
    return node.text.decode("utf-8")


def walk(node) -> Iterator:  # type: ignore[no-untyped-def]
    """Every node under ``node`` (itself first), in source order."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


_LITERAL_LEAVES = frozenset({"number", "string", "true", "false", "null"})


def is_literal(node) -> bool:  # type: ignore[no-untyped-def]
    """Whether a node is a literal as :func:`literal_args` defines it."""
    t = node.type
    if t in _LITERAL_LEAVES:
        return True
    if t == "identifier":
        return node_text(node) in ("undefined", "NaN", "Infinity")
    if t == "template_string":
        return not any(c.type == "template_substitution" for c in node.children)
    if t == "unary_expression":
        op = node.child_by_field_name("operator")
        arg = node.child_by_field_name("argument")
        return op is not None and node_text(op) in ("-", "+") and arg is not None and (
            arg.type == "number" or (arg.type == "identifier" and node_text(arg) == "Infinity"))
    if t == "parenthesized_expression":
        return all(is_literal(c) for c in node.named_children)
    if t == "array":
        return all(is_literal(c) for c in node.named_children if c.type != "comment")
    if t == "object":
        for c in node.named_children:
            if c.type == "comment":
                continue
            if c.type != "pair":
                return False
            key = c.child_by_field_name("key")
            value = c.child_by_field_name("value")
            if key is None or key.type not in ("property_identifier", "string", "number"):
                return False
            if node_text(key).strip("'\"") == "__proto__" or value is None or not is_literal(value):
                return False
        return True
    return False


def literal_args(call) -> str | None:  # type: ignore[no-untyped-def]
    """The argument list of a call as source text when every argument is a literal (numbers,
    strings, templates without substitutions, booleans, null, undefined, NaN, Infinity, and
    arrays and plain objects of those), else None."""
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "arguments":
        return None
    items = [c for c in args.named_children if c.type != "comment"]
    if not items or not all(is_literal(c) for c in items):
        return None
    return ", ".join(literal_text(c) for c in items)


def literal_text(node) -> str:  # type: ignore[no-untyped-def]
    """A literal (see :func:`is_literal`) written on one line: arrays and objects rebuilt from
    their items (comments and line breaks dropped), strings and numbers as written."""
    t = node.type
    items = [c for c in node.named_children if c.type != "comment"]
    if t == "array":
        return "[" + ", ".join(literal_text(c) for c in items) + "]"
    if t == "object":
        pairs = [f"{node_text(c.child_by_field_name('key'))}: {literal_text(c.child_by_field_name('value'))}"
                 for c in items]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    if t == "parenthesized_expression" and items:
        return literal_text(items[0])
    if t == "unary_expression":
        op, arg = node.child_by_field_name("operator"), node.child_by_field_name("argument")
        return node_text(op) + literal_text(arg)
    return node_text(node)


def pattern_names(node) -> list[str]:  # type: ignore[no-untyped-def]
    """The names a binding pattern declares (``x``, ``{a, b: c}``, ``[d, ...e]``, ``f = 1``)."""
    t = node.type
    if t in ("identifier", "shorthand_property_identifier_pattern"):
        return [node_text(node)]
    out: list[str] = []
    if t == "pair_pattern":
        value = node.child_by_field_name("value")
        return pattern_names(value) if value is not None else []
    if t in ("assignment_pattern", "object_assignment_pattern"):
        left = node.child_by_field_name("left")
        return pattern_names(left) if left is not None else []
    if t in ("object_pattern", "array_pattern", "rest_pattern"):
        for c in node.named_children:
            out.extend(pattern_names(c))
    return out


# ---- JSDoc ----------------------------------------------------------------------------------------
_PARAM_TAG = re.compile(r"@(?:param|arg|argument)\s+(?:\{(?P<type>(?:[^{}]|\{[^{}]*\})*)\}\s*)?"
                        r"(?P<name>\[[^\]]*\]|[\w$.]+)")


def jsdoc_params(doc: str) -> dict[str, str]:
    """``@param {type} name`` tags of a JSDoc comment, in order: name -> type text (``""``
    when the tag has no type). ``[name]``/``[name=default]`` is optional: its type gets
    ``|undefined``. Dotted names (``opts.size``) are kept as written."""
    out: dict[str, str] = {}
    for m in _PARAM_TAG.finditer(doc):
        name = m.group("name")
        type_text = " ".join((m.group("type") or "").split())
        if name.startswith("["):
            name = name[1:-1].split("=", 1)[0].strip()
            if type_text:
                type_text = f"{type_text}|undefined"
        out.setdefault(name, type_text)
    return out


def param_types(doc_types: Mapping[str, str], names: list[str]) -> list[str]:
    """The JSDoc type of each parameter. A parameter written as a pattern (``{a, b}``) takes the
    tag at its position; an object parameter with dotted tags (``opts.size``) becomes a record
    type ``{size: number, ...}``."""
    top = [n for n in doc_types if "." not in n]
    out: list[str] = []
    for i, name in enumerate(names):
        key = name if name in doc_types else (top[i] if i < len(top) and not name.isidentifier() else name)
        base = doc_types.get(key, "")
        fields = [(n[len(key) + 1:], t) for n, t in doc_types.items()
                  if n.startswith(key + ".") and "." not in n[len(key) + 1:]]
        if fields and base.split("|")[0].strip().lower() in ("object", ""):
            record = "{" + ", ".join(f"{k}: {t or '*'}" for k, t in fields) + "}"
            base = record + base[len(base.split("|")[0]):]
        out.append(base)
    return out


def leading_doc(stmt) -> str:  # type: ignore[no-untyped-def]
    """The JSDoc block just before ``stmt``, or the ``//`` comment lines just before it."""
    prev = stmt.prev_sibling
    if prev is None or prev.type != "comment" or prev.end_point[0] < stmt.start_point[0] - 1:
        return ""
    text = node_text(prev)
    if text.startswith("/**"):
        return text
    if not text.startswith("//"):
        return ""
    lines = [text]
    node = prev
    while True:
        p = node.prev_sibling
        if p is None or p.type != "comment" or not node_text(p).startswith("//") \
                or p.end_point[0] < node.start_point[0] - 1:
            break
        lines.insert(0, node_text(p))
        node = p
    return "\n".join(lines)


