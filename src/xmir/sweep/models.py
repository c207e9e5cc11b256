"""The ``models`` field of a spec -> the ordered list of model specs, checked without loading."""

from __future__ import annotations

from xmir.errors import XmirError
from xmir.models.spec import LADDERS, parse_model_spec


def resolve_models(models: str | list[str]) -> list[str]:
    """A ladder name -> its specs (small to large); a list -> itself. Every spec is parsed
    (unknown name, bad ``layers=``, missing folder fail here, before any run starts)."""
    if isinstance(models, str):
        if models not in LADDERS:
            raise XmirError(
                f"models: unknown ladder {models!r}; known ladders: {', '.join(sorted(LADDERS))} "
                "(or give a list of model specs)"
            )
        specs = list(LADDERS[models])
        if not specs:
            raise XmirError(f"models: ladder {models!r} is empty; give a list of model specs")
        field = f"models ({models})"
    else:
        specs, field = list(models), "models"
    for position, spec in enumerate(specs):
        check_model_spec(spec, f"{field}[{position}]")
    return specs


def check_model_spec(spec: str, field: str = "models") -> None:
    """Parse ``spec`` as ``xmir train/eval`` will; a problem names the spec field."""
    try:
        parse_model_spec(spec)
    except XmirError as error:
        raise XmirError(f"{field}: {error}") from None
