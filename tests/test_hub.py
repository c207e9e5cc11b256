"""The hub reachability check that makes offline hub use fail in seconds."""

from __future__ import annotations

import pytest

import xmir.hub
from xmir.errors import XmirError


def test_unreachable_endpoint_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens
    assert not xmir.hub.hub_reachable(timeout_s=1.0)


def test_require_hub_errors_unless_offline_cache_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xmir.hub, "hub_reachable", lambda timeout_s=3.0: False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(XmirError, match="thing: the Hugging Face hub is unreachable; do this"):
        xmir.hub.require_hub("thing", "do this")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    xmir.hub.require_hub("thing", "do this")  # the hub libraries' local cache is tried instead
