"""A quick check that the Hugging Face hub can be reached, so offline use fails in seconds."""

from __future__ import annotations

import os
import socket
import urllib.request
from urllib.parse import urlparse

from xmir.errors import XmirError


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """TCP probe of the hub endpoint, or of the proxy that would carry the request to it.

    The proxy is chosen as the hub clients choose it (``HTTPS_PROXY``/``HTTP_PROXY``/
    ``ALL_PROXY``, upper or lower case), and ``NO_PROXY`` exempts hosts from it. Without the
    probe an offline machine waits for the hub client's retries (tens of seconds).
    """
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = endpoint.hostname or ""
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    proxy = proxy_for(endpoint.scheme, host)
    if proxy is not None:
        via = urlparse(proxy if "://" in proxy else f"http://{proxy}")
        host, port = via.hostname or "", via.port or (443 if via.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def proxy_for(scheme: str, host: str) -> str | None:
    """The proxy URL the environment sets for ``scheme`` requests to ``host`` (None: direct,
    e.g. when ``NO_PROXY`` names the host)."""
    proxies = urllib.request.getproxies_environment()
    if urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxies.get(scheme) or proxies.get("all")


def hub_offline_mode() -> bool:
    """True when the user asked the hub libraries to work from their local cache only."""
    return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")


def require_hub(what: str, instead: str) -> None:
    """Raise a one-line error when ``what`` needs the hub and the hub cannot be reached.

    With ``HF_HUB_OFFLINE=1`` the hub libraries' local cache is tried instead.
    """
    if not hub_offline_mode() and not hub_reachable():
        raise XmirError(f"{what}: the Hugging Face hub is unreachable; {instead}")
