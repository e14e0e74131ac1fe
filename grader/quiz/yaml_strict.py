"""YAML loaders for quiz files: only what a bank or an answers file needs, read within bounds.

They refuse duplicate keys, which PyYAML would otherwise drop silently, and
read only what a quiz file could need, before anything is built from it: no
file larger than one could be (``load_file``), no nesting deeper than
``MAX_DEPTH``. Aliases are where YAML grows without bound (a kilobyte of
nested aliases stands for billions of values, and grading them never ends):
an answers file, which comes from whoever took the quiz, may hold no anchor
or alias at all; a bank, written by the course's authors (and often by
``yaml.safe_dump``, which writes aliases for shared values), may, as long as
what they stand for stays within ``MAX_VALUES`` values and ``MAX_DEPTH``
levels and no alias holds itself.
"""
from __future__ import annotations

from pathlib import Path

import yaml

MAX_DEPTH = 20  # a bank nests five levels (questions, a question, its choices, ...); answers two
MAX_VALUES = 100_000  # values in a bank, aliases expanded; the course's largest holds a few thousand


class DuplicateKey(yaml.MarkedYAMLError):
    pass


class Refused(yaml.MarkedYAMLError):
    """YAML a quiz file never needs: aliases that grow without bound, nesting too deep, a file too large."""


class _Bounded:
    """Composes the document as PyYAML does, within the bounds above."""

    aliases = False  # whether anchors and aliases are allowed at all
    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if not self.aliases and (isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None):
            raise Refused(problem="anchors and aliases (& and *) are not allowed: write each value out",
                          problem_mark=event.start_mark)
        if self.depth >= MAX_DEPTH:
            raise Refused(problem=f"nested more than {MAX_DEPTH} levels deep", problem_mark=event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def compose_document(self):
        node = super().compose_document()
        if self.aliases:
            _expanded(node, 1, {}, set())
        return node


def _expanded(node: yaml.Node, level: int, known: dict[int, tuple[int, int]], holding: set[int]) -> tuple[int, int]:
    """How many values ``node`` stands for with its aliases expanded, and how many levels deep it goes.

    Each node is measured once (an alias is the node it names), so a billion laughs is measured in the
    time it takes to read it, and refused.
    """
    if id(node) in holding:
        raise Refused(problem="an alias stands for a value that holds it", problem_mark=node.start_mark)
    if id(node) not in known:
        if level > MAX_DEPTH:
            raise Refused(problem=f"nested more than {MAX_DEPTH} levels deep, aliases expanded",
                          problem_mark=node.start_mark)
        holding.add(id(node))
        children = node.value if isinstance(node, yaml.SequenceNode) else \
            [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else []
        values, height = 1, 1
        for child in children:
            more, below = _expanded(child, level + 1, known, holding)
            values, height = values + more, max(height, below + 1)
            if values > MAX_VALUES:
                raise Refused(problem=f"its aliases stand for more than {MAX_VALUES} values",
                              problem_mark=node.start_mark)
        holding.discard(id(node))
        known[id(node)] = values, height
    values, height = known[id(node)]
    if level + height - 1 > MAX_DEPTH:
        raise Refused(problem=f"nested more than {MAX_DEPTH} levels deep, aliases expanded",
                      problem_mark=node.start_mark)
    return values, height


def _construct_mapping_once(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            break  # PyYAML's own construct_mapping reports unhashable keys with a better message
        if key in seen:
            raise DuplicateKey(problem=f"the key {key!r} appears twice", problem_mark=key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping_plain(node, deep=deep)


class BankLoader(_Bounded, yaml.SafeLoader):
    """Banks: ordinary YAML types (numbers, booleans), no duplicate keys, aliases within bounds."""

    aliases = True
    construct_mapping_plain = yaml.SafeLoader.construct_mapping
    max_bytes = 2 * 1024 * 1024  # the course's largest bank is under 60 KB


class AnswersLoader(_Bounded, yaml.BaseLoader):
    """Answers files: every scalar stays text, so ``no`` or ``1e3`` reach the grader as typed.

    Each answer is then read according to its question's type, which YAML cannot know. No anchors or
    aliases: an answers file is a line per question.
    """

    construct_mapping_plain = yaml.BaseLoader.construct_mapping
    max_bytes = 256 * 1024  # a line per question: a few KB


def load_file(path: Path, loader: type[BankLoader] | type[AnswersLoader]) -> object:
    """``path`` parsed with ``loader``, reading no more than its ``max_bytes``.

    Raises ``OSError`` or ``UnicodeDecodeError`` when the file cannot be read as text, and a
    ``yaml.YAMLError`` (``Refused`` among them) when its content cannot be used.
    """
    with open(path, "rb") as stream:
        data = stream.read(loader.max_bytes + 1)
    if len(data) > loader.max_bytes:
        raise Refused(problem=f"the file is larger than {loader.max_bytes // 1024} KB, more than a quiz file needs")
    return yaml.load(data.decode("utf-8"), Loader=loader)


for _loader in (BankLoader, AnswersLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_once)


def describe_yaml_error(err: yaml.YAMLError) -> str:
    """A one-line description with the line number, without PyYAML's multi-line layout."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"
