"""TLS on loopback with certificates from a throwaway CA (trustme): refused unless trusted,
trusted only through a context that verifies, never turned off by accident."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator

import aiohttp
import pytest
import trustme
from aiohttp import web

from plaid_async import PlaidClient, PlaidConnectionError, RetryPolicy
from tests.samples import CLIENT_ID, SECRET, TOKEN, response_doc

RETRY = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.001)


class TLSServer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.requests = 0


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def serve(ca: trustme.CA, *hostnames: str) -> AsyncIterator[TLSServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hostnames).configure_cert(context)
    server = TLSServer("")

    async def handle(request: web.Request) -> web.Response:
        server.requests += 1
        return web.Response(body=json.dumps(response_doc()), content_type="application/json")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    server.url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    yield server
    await runner.cleanup()


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[TLSServer]:
    async for server in serve(ca, "127.0.0.1"):
        yield server


@pytest.fixture
async def wrong_host_server(ca: trustme.CA) -> AsyncIterator[TLSServer]:
    async for server in serve(ca, "plaid-proxy.example"):
        yield server


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_a_certificate_from_an_unknown_ca_is_refused_and_not_retried(
    tls_server: TLSServer,
) -> None:
    async with PlaidClient(CLIENT_ID, SECRET, base_url=tls_server.url, retry=RETRY) as client:
        with pytest.raises(PlaidConnectionError, match="certificate did not verify") as info:
            await client.accounts_get(TOKEN)
    assert not info.value.transient
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    assert tls_server.requests == 0


async def test_the_users_own_context_trusting_the_ca_works(
    tls_server: TLSServer, ca: trustme.CA
) -> None:
    client = PlaidClient(CLIENT_ID, SECRET, base_url=tls_server.url, retry=RETRY, ssl=trusting(ca))
    async with client:
        resp = await client.accounts_get(TOKEN)
    assert resp.request_id == "bkVE1BHWMAZ9Rnr"
    assert tls_server.requests == 1


async def test_a_ca_bundle_file_through_create_default_context(
    tls_server: TLSServer, ca: trustme.CA
) -> None:
    """The documented way to trust a private CA: ``ssl.create_default_context(cafile=...)``."""
    with ca.cert_pem.tempfile() as cafile:
        context = ssl.create_default_context(cafile=cafile)
    async with PlaidClient(
        CLIENT_ID, SECRET, base_url=tls_server.url, retry=RETRY, ssl=context
    ) as client:
        await client.accounts_get(TOKEN)


async def test_a_trusted_certificate_for_another_host_is_refused(
    wrong_host_server: TLSServer, ca: trustme.CA
) -> None:
    client = PlaidClient(
        CLIENT_ID, SECRET, base_url=wrong_host_server.url, retry=RETRY, ssl=trusting(ca)
    )
    async with client:
        with pytest.raises(PlaidConnectionError, match="certificate did not verify"):
            await client.accounts_get(TOKEN)
    assert wrong_host_server.requests == 0


@pytest.mark.parametrize(
    "connector_ssl", [False, "unverified context"], ids=["ssl=False", "CERT_NONE context"]
)
async def test_a_session_whose_connector_skips_verification_still_verifies(
    tls_server: TLSServer, connector_ssl: object
) -> None:
    """aiohttp lets a connector's ``ssl=False`` win over a request's default: the client
    passes its own verifying context with every request instead."""
    if connector_ssl == "unverified context":
        connector_ssl = ssl._create_unverified_context()  # noqa: S323 - the accident tested
    connector = aiohttp.TCPConnector(ssl=connector_ssl)  # type: ignore[arg-type]
    async with aiohttp.ClientSession(connector=connector) as session:
        client = PlaidClient(
            CLIENT_ID, SECRET, base_url=tls_server.url, retry=RETRY, session=session
        )
        async with client:
            with pytest.raises(PlaidConnectionError, match="certificate did not verify"):
                await client.accounts_get(TOKEN)
    assert tls_server.requests == 0


def _no_hostname_check() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    return context


def _optional_certificates() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (False, TypeError, "cannot be turned off"),
        (True, TypeError, "must be an ssl.SSLContext"),
        ("/etc/ssl/ca.pem", TypeError, "create_default_context"),
        (ssl._create_unverified_context(), ValueError, "must verify"),  # noqa: S323
        (_no_hostname_check(), ValueError, "check_hostname=True"),
        (_optional_certificates(), ValueError, "CERT_REQUIRED"),
    ],
    ids=["False", "True", "a path", "CERT_NONE", "no host name check", "CERT_OPTIONAL"],
)
def test_verification_cannot_be_turned_off_by_accident(
    value: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        PlaidClient(CLIENT_ID, SECRET, ssl=value)  # type: ignore[arg-type]
