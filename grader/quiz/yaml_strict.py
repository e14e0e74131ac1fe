"""YAML loaders that refuse duplicate keys, which PyYAML would otherwise drop silently."""
from __future__ import annotations

import yaml


class DuplicateKey(yaml.MarkedYAMLError):
    pass


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


class BankLoader(yaml.SafeLoader):
    """Banks: ordinary YAML types (numbers, booleans), no duplicate keys."""

    construct_mapping_plain = yaml.SafeLoader.construct_mapping


class AnswersLoader(yaml.BaseLoader):
    """Answers files: every scalar stays text, so ``no`` or ``1e3`` reach the grader as typed.

    Each answer is then read according to its question's type, which YAML cannot know.
    """

    construct_mapping_plain = yaml.BaseLoader.construct_mapping


for _loader in (BankLoader, AnswersLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_once)


def describe_yaml_error(err: yaml.YAMLError) -> str:
    """A one-line description with the line number, without PyYAML's multi-line layout."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"
