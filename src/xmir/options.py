"""Command options declared once, as fields of a pydantic config.

A config (``TrainConfig``, ``EvalConfig``) declares each option as a typed field with its
help (``Field(description=...)``), its checks (``Field(ge=...)``, ``Literal`` choices,
validators) and, where the command line differs from the field, a :class:`Cli` marker. The
Typer options of a command (:mod:`xmir.commands.typer_options`) and the command lines a sweep
builds (:func:`command_args`) both come from these fields, so they cannot drift apart.

This module imports no CLI library: the sweep builds command lines without importing Typer.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Literal, Self, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from xmir.errors import XmirError


@dataclass(frozen=True)
class Cli:
    """How a config field appears on the command line (put it in the field's ``Annotated``).

    ``option``: the option's name when it is not ``--field-name`` (a boolean may name both
    forms, ``--keep/--drop``); ``exposed``: False for a setting with no option; ``cli_type``:
    what the option parses when it differs from the field (``str`` for ``64,128``; the command
    converts it), its default then None; ``tell_given``: the option's default is None so the
    command can tell whether it was given, and its help shows the field's default instead;
    ``show_default``: a boolean flag shows its default.
    """

    option: str = ""
    exposed: bool = True
    cli_type: Any = None
    tell_given: bool = False
    show_default: bool = False


_DEFAULT_CLI = Cli()


class OptionsModel(BaseModel):
    """A frozen config whose every invalid value is a one-line :class:`XmirError`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise XmirError(describe_error(error, type(self))) from None

    def replace(self, **changes: Any) -> Self:
        """A checked copy with ``changes`` (what ``dataclasses.replace`` did)."""
        return type(self)(
            **{**{name: getattr(self, name) for name in type(self).model_fields}, **changes}
        )


def cli_of(field: FieldInfo) -> Cli:
    """The field's :class:`Cli` marker (the defaults when it has none)."""
    return next((m for m in field.metadata if isinstance(m, Cli)), _DEFAULT_CLI)


def option_name(model: type[BaseModel], name: str) -> str:
    """``--batch-size`` for ``batch_size`` (a boolean: both forms, ``--cache/--no-cache``);
    the field name itself for a setting with no option."""
    field = model.model_fields[name]
    cli = cli_of(field)
    if not cli.exposed:
        return name
    option = cli.option or "--" + name.replace("_", "-")
    if is_flag(field) and "/" not in option:
        option = f"{option}/--no-{option[2:]}"
    return option


def is_flag(field: FieldInfo) -> bool:
    """True for a boolean field (an on/off flag on the command line)."""
    return _without_none(field.annotation) is bool


def choices(annotation: Any) -> tuple[str, ...]:
    """The values of a ``Literal`` annotation (inside ``X | None`` too); () for any other."""
    inner = _without_none(annotation)
    return tuple(get_args(inner)) if get_origin(inner) is Literal else ()


def bounds_text(field: FieldInfo) -> str:
    """The field's numeric range as Click writes it: ``x>=1``, ``0<=x<1``; "" when none."""
    low, high = _bounds(field)
    left = "" if low is None else f"{low[0]:g}{'<=' if low[1] else '<'}"
    right = "" if high is None else f"{'<=' if high[1] else '<'}{high[0]:g}"
    if low is not None and high is None:
        return f"x{'>=' if low[1] else '>'}{low[0]:g}"
    return f"{left}x{right}" if left or right else ""


def describe_error(error: ValidationError, model: type[BaseModel]) -> str:
    """One line for the first problem of ``error``, naming the option (``--batch-size must be
    >= 1, got 0``)."""
    problem = error.errors(include_url=False)[0]
    loc, kind, given = problem["loc"], problem["type"], problem.get("input")
    if not loc:  # a rule across options (a model validator): its own message
        cause = problem.get("ctx", {}).get("error")
        return _one_line(str(cause) if cause is not None else problem["msg"])
    name = str(loc[0])
    field = model.model_fields.get(name)
    if field is None:
        return _one_line(f"unknown setting {name!r}")
    label = option_name(model, name).split("/")[0]
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return _one_line(f"{label} must {_range_phrase(field)}, got {given}")
    if kind == "literal_error":
        allowed = ", ".join(choices(field.annotation))
        return _one_line(f"{label} must be one of {allowed}, got {given!r}")
    if kind == "missing":
        return _one_line(f"{label} is required")
    if problem.get("ctx", {}).get("error") is not None:
        return _one_line(f"{label}: {problem['ctx']['error']}")
    return _one_line(f"{label} {given!r}: {problem['msg'].lower()}")


def command_args(values: dict[str, Any], *models: type[BaseModel]) -> list[str]:
    """The options of ``values`` (field name -> value, in the order given) on a command line:
    ``{"batch_size": 32, "freeze_embeddings": True}`` -> ``--batch-size 32
    --freeze-embeddings``. None leaves an option out; a boolean gives its on or off form."""
    args: list[str] = []
    for name, value in values.items():
        if value is None:
            continue
        model = next((m for m in models if name in m.model_fields), None)
        if model is None or not cli_of(model.model_fields[name]).exposed:
            raise ValueError(
                f"{name!r} is not an option of {', '.join(m.__name__ for m in models)}"
            )
        option = option_name(model, name)
        if isinstance(value, bool):
            on, off = option.split("/")
            args.append(on if value else off)
        else:
            args += [option, format_value(value)]
    return args


def format_value(value: Any) -> str:
    """A value as the command line spells it: ``3e-05``, ``64,128``, a path as is."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ",".join(map(format_value, value))
    return str(value)


def _range_phrase(field: FieldInfo) -> str:
    """``be >= 1``, ``be > 0`` or ``lie in [0, 1)``."""
    low, high = _bounds(field)
    if low and high:
        return f"lie in {'[' if low[1] else '('}{low[0]:g}, {high[0]:g}{']' if high[1] else ')'}"
    if low:
        return f"be {'>=' if low[1] else '>'} {low[0]:g}"
    if high:
        return f"be {'<=' if high[1] else '<'} {high[0]:g}"
    return "be in range"


def _bounds(field: FieldInfo) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
    """The lower and upper bound of a field, each (value, closed), from its constraints."""
    low = high = None
    for item in field.metadata:
        for attr, closed in (("ge", True), ("gt", False)):
            if getattr(item, attr, None) is not None:
                low = (getattr(item, attr), closed)
        for attr, closed in (("le", True), ("lt", False)):
            if getattr(item, attr, None) is not None:
                high = (getattr(item, attr), closed)
    return low, high


def _without_none(annotation: Any) -> Any:
    """``int | None`` -> ``int``; any other annotation as it is."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _one_line(text: str) -> str:
    return " ".join(text.split())
