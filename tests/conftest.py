from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

from flows.base import Flow, VerifyResult
from flows.http import PlatformHttp
from tests.platforms.server import PlatformServer


def platform_module(flow_id: str):
    return importlib.import_module("tests.platforms." + flow_id.replace("-", "_"))


@pytest.fixture
def platform_server(request: pytest.FixtureRequest) -> Iterator[PlatformServer]:
    """Use with indirect parametrisation or call `start_platform(flow_id)` below."""
    server = platform_module(request.param).SERVER().start()
    yield server
    server.stop()


# Room for a loaded machine (2 cores, several test processes): a local answer is quick, and a
# test about time passes its own timeout.
GENEROUS_TIMEOUT = 10.0


def http_for(server: PlatformServer, total_timeout: float = GENEROUS_TIMEOUT) -> PlatformHttp:
    """The production HTTP layer, pointed at a local server through GETKEY_<ID>_API_URL."""
    return PlatformHttp(environ={server.env_name(): server.url}, total_timeout=total_timeout,
                        connect_timeout=total_timeout)


def check_and_verify(flow: Flow, server: PlatformServer, values: dict[str, str]) -> VerifyResult:
    """What a person's submission goes through: the format check must pass, then the live
    check runs against the local server."""
    checked = flow.check(values)
    assert checked.ok, checked.errors
    return flow.run_verify(checked.values, http_for(server))
