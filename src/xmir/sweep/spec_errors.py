"""Turning a spec's YAML and validation problems into one line that names the field."""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from xmir.data.datasets import CORPUS, POOLED, dataset_names
from xmir.errors import XmirError
from xmir.sweep.spec_fields import UNKNOWN_DATASET, Budget, EvalSet, MiraclEvalSet


def yaml_problem(path: Path, error: yaml.YAMLError) -> XmirError:
    """The one-line error for a YAML file that cannot be read as a spec."""
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1})" if mark is not None else ""
    problem = str(getattr(error, "problem", "") or "")
    if problem.startswith("duplicate key"):
        return XmirError(f"{path}: {problem}; give each key once")
    tag = re.search(r"tag '(tag:yaml\.org,2002:)?([^']*)'", problem)
    if tag and isinstance(error, yaml.constructor.ConstructorError):
        shown = f"!!{tag.group(2)}" if tag.group(1) else tag.group(2)
        return XmirError(
            f"{path}: unsafe YAML tag {shown} refused{where}; a spec holds plain values only"
        )
    return XmirError(f"{path}: not valid YAML{where}; fix the syntax")


@functools.cache
def unique_key_loader() -> type:
    """yaml's SafeLoader that refuses a key given twice in one mapping (yaml keeps the last)."""

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        problem=f"duplicate key {key!r} (lines {seen[key]} and "
                        f"{key_node.start_mark.line + 1})",
                        problem_mark=key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def first_problem(error: ValidationError, root: type[BaseModel]) -> str:
    """``field.path: message`` of the first validation error (plus how many more there are);
    an unknown field comes first, with the closest valid one (a misspelt key also makes its
    intended field "missing")."""
    problems = error.errors(include_url=False)
    problems.sort(key=lambda problem: problem["type"] != "extra_forbidden")
    first = problems[0]
    field = _field_path(first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field" + _closest(first["loc"], root)
    elif first["type"] == "missing":
        message = "required field is missing"
    elif first["type"] == UNKNOWN_DATASET:  # eval[i].dataset: missing or not registered
        given = first["input"].get("dataset") if isinstance(first["input"], dict) else None
        if not isinstance(first["input"], (dict, BaseModel)):
            message = "Input should be a valid dictionary or object to extract fields from"
        else:
            field = f"{field}.dataset"
            known = ", ".join(repr(name) for name in dataset_names())
            missing = "required field is missing"
            message = (
                missing if given is None else f"unknown dataset {str(given)!r}; use one of {known}"
            )
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return f"{field}: {message}{more}" if field else f"{message}{more}"


def _closest(loc: tuple[Any, ...], root: type[BaseModel]) -> str:
    """``; did you mean 'strategies'?`` for an unknown key, or a hint to check the spelling."""
    names = [part for part in loc[:-1] if isinstance(part, str)]
    model: type[BaseModel] | None = root
    if names:
        model = {"budget": Budget, "eval": EvalSet}.get(names[0])
        model = MiraclEvalSet if model is EvalSet and CORPUS in names else model
    known = list(model.model_fields) if model is not None else []
    match = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.7)
    return f"; did you mean {match[0]!r}?" if match else " (check the spelling)"


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    after_index = False
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] = f"{parts[-1]}[{item}]"
            after_index = True
            continue
        if after_index and item in (POOLED, CORPUS):  # pydantic names the union member: drop it
            after_index = False
            continue
        parts.append(str(item))
        after_index = False
    return ".".join(parts)
