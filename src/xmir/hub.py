"""A quick check that the Hugging Face hub can be reached, so offline use fails in seconds."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

from xmir.errors import XmirError


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """TCP probe of the hub endpoint (assumed reachable behind a proxy).

    Without it an offline machine waits for the hub client's retries (tens of seconds).
    """
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY")):
        return True
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((endpoint.hostname or "", port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def hub_offline_mode() -> bool:
    """True when the user asked the hub libraries to work from their local cache only."""
    return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")


def require_hub(what: str, instead: str) -> None:
    """Raise a one-line error when ``what`` needs the hub and the hub cannot be reached.

    With ``HF_HUB_OFFLINE=1`` the hub libraries' local cache is tried instead.
    """
    if not hub_offline_mode() and not hub_reachable():
        raise XmirError(f"{what}: the Hugging Face hub is unreachable; {instead}")
