"""Typer options generated from pydantic configs (:mod:`xmir.options`).

``@options_from(TrainConfig, TrainRunOptions)`` gives a command one Typer option per config
field: the field's name, type, ``Literal`` choices (matched case-insensitively), default and
help (with its range). The command receives the values as keyword arguments and turns them
into configs with :func:`parse_options`, whose checks are the configs' own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from xmir.options import bounds_text, choices, cli_of, is_flag, option_name

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


def options_from(*models: type[BaseModel]) -> Callable[[F], F]:
    """Give the decorated command (``def command(**values)``) the options of ``models``."""

    def decorate(command: F) -> F:
        command.__signature__ = typer_signature(*models)  # type: ignore[attr-defined]
        return command

    return decorate


def typer_signature(*models: type[BaseModel]) -> inspect.Signature:
    """One keyword parameter per exposed field, annotated with its ``typer.Option``."""
    parameters = []
    for model in models:
        for name, field in model.model_fields.items():
            if cli_of(field).exposed:
                parameters.append(_parameter(model, name, field))
    return inspect.Signature(parameters)


def parse_options(
    model: type[M],
    values: Mapping[str, Any],
    parsers: Mapping[str, Callable[[Any], Any]] | None = None,
) -> M:
    """The ``model`` of a command's option ``values``: an option left at None is not given
    (its field keeps its default and stays out of ``model_fields_set``); ``parsers`` turn
    the text of an option into its field's value (``"64,128"`` -> ``(64, 128)``)."""
    parsers = parsers or {}
    given = {
        name: parsers.get(name, _same)(values[name])
        for name in model.model_fields
        if values.get(name) is not None
    }
    return model(**given)


def _parameter(model: type[BaseModel], name: str, field: FieldInfo) -> inspect.Parameter:
    cli = cli_of(field)
    typer_type = cli.cli_type or field.annotation
    default_given = cli.tell_given or cli.cli_type is not None
    option = typer.Option(
        option_name(model, name),
        help=_help(model, name, field),
        case_sensitive=not choices(field.annotation),
        show_default=False,  # _help shows it, with the range, as Click would
    )
    if field.is_required():
        default: Any = inspect.Parameter.empty
    elif default_given:
        default, typer_type = None, typer_type | None
    else:
        default = field.default
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[typer_type, option],
        default=default,
    )


def _help(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    """The field's description, then its default and range the way Click shows them:
    ``Encoding batch size.  [default: 64; x>=1]``."""
    cli = cli_of(field)
    extras = []
    shown = cli.tell_given or (cli.cli_type is None and (cli.show_default or not is_flag(field)))
    if shown and not field.is_required() and field.default is not None:
        extras.append(f"default: {_default_text(model, name, field.default)}")
    if bounds_text(field):
        extras.append(bounds_text(field))
    text = field.description or ""
    return f"{text}  [{'; '.join(extras)}]" if extras else text


def _default_text(model: type[BaseModel], name: str, default: Any) -> str:
    """``3e-05``, ``hybrid``; a flag by the form that is on (``keep-embeddings``)."""
    if isinstance(default, bool):
        on, off = option_name(model, name).split("/")
        return (on if default else off).removeprefix("--")
    return str(default)


def _same(value: Any) -> Any:
    return value
