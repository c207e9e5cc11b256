"""The hub reachability check that makes offline hub use fail in seconds."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

import xmir.hub
from xmir.errors import XmirError

PROXY_VARIABLES = [
    name
    for base in ("https_proxy", "http_proxy", "all_proxy", "no_proxy")
    for name in (base, base.upper())
]
DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def listening() -> Iterator[str]:
    """A local address that accepts TCP connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def test_unreachable_endpoint_is_detected(no_proxies: pytest.MonkeyPatch) -> None:
    no_proxies.setenv("HF_ENDPOINT", DEAD)
    assert not xmir.hub.hub_reachable(timeout_s=1.0)


def test_the_proxy_is_probed_unless_no_proxy_exempts_the_hub(
    no_proxies: pytest.MonkeyPatch, listening: str
) -> None:
    no_proxies.setenv("HF_ENDPOINT", DEAD)
    no_proxies.setenv("HTTP_PROXY", listening)
    assert xmir.hub.hub_reachable(timeout_s=1.0)  # through a live proxy
    no_proxies.setenv("NO_PROXY", "example.org,127.0.0.1")
    assert not xmir.hub.hub_reachable(timeout_s=1.0)  # direct, to the dead endpoint
    no_proxies.setenv("HF_ENDPOINT", listening)
    no_proxies.setenv("HTTP_PROXY", DEAD)
    assert xmir.hub.hub_reachable(timeout_s=1.0)  # direct, ignoring the dead proxy
    no_proxies.delenv("NO_PROXY")
    assert not xmir.hub.hub_reachable(timeout_s=1.0)  # the dead proxy would carry it


def test_require_hub_errors_unless_offline_cache_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xmir.hub, "hub_reachable", lambda timeout_s=3.0: False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(XmirError, match="thing: the Hugging Face hub is unreachable; do this"):
        xmir.hub.require_hub("thing", "do this")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    xmir.hub.require_hub("thing", "do this")  # the hub libraries' local cache is tried instead
