"""YAML documents whose every value remembers the line it came from, so that errors can name file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Where:
    """A place in the folder: a file (relative to the folder) and a line (from 1; 0: the whole file)."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    """Something wrong with the folder (or with what it asks of the site), where it is."""

    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class FolderInvalid(Exception):
    """The folder cannot be applied as it is; `problems` says every reason found, each with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Node:
    """A value read from YAML (a dict of Nodes, a list of Nodes, or a scalar) and where it was written."""

    value: Any
    where: Where

    def plain(self) -> Any:
        """The value as plain Python data (dicts, lists, scalars), its places forgotten."""
        if isinstance(self.value, dict):
            return {key: node.plain() for key, node in self.value.items()}
        if isinstance(self.value, list):
            return [node.plain() for node in self.value]
        return self.value


def load(folder: Path, relative: str, problems: list[Problem]) -> Node | None:
    """The document at `folder/relative`, or None (with the reason added to `problems`)."""
    path = folder / relative
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(Where(relative), f"is not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return None
    except OSError as exc:
        problems.append(Problem(Where(relative), f"cannot be read: {exc.strerror}"))
        return None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return Node({}, Where(relative, 1))
        return _node(loader, root, relative, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problems.append(Problem(Where(relative, line), f"is not valid YAML: {exc.problem or exc.context}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(Where(relative), f"is not valid YAML: {exc}"))
        return None
    finally:
        loader.dispose()


def _node(loader: yaml.SafeLoader, node: yaml.Node, relative: str, problems: list[Problem]) -> Node:
    where = Where(relative, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        mapping: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_where = Where(relative, key_node.start_mark.line + 1)
            if not isinstance(key, str):
                problems.append(Problem(key_where, f"keys must be text, not {key!r}"))
                continue
            if key in mapping:
                problems.append(Problem(key_where, f"{key!r} is given twice (first on line {mapping[key].where.line})"))
                continue
            mapping[key] = _node(loader, value_node, relative, problems)
        return Node(mapping, where)
    if isinstance(node, yaml.SequenceNode):
        return Node([_node(loader, item, relative, problems) for item in node.value], where)
    return Node(loader.construct_object(node, deep=True), where)


class _Dumper(yaml.SafeDumper):
    """Writes multi-line text as a block (`|`), keeps keys in the order given."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not value.startswith((" ", "\t")) and not any(c in value for c in "\r\t\x85\u2028\u2029"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)


def dump(data: Any, *, header: str = "") -> str:
    """YAML text for `data`, readable: block style, keys in order, multi-line text as blocks."""
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comment + body
