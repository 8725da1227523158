"""``plaid-async sandbox serve``: the embedded emulator as a server, for tests and demos.

Errors are one line on stderr, never a traceback; usage errors exit with 2 (click's rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
from typing import Any

import click

from plaid_async.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_SECRET,
    FAULT_KINDS,
    RATE_LIMIT_CODES,
    Faults,
    RateLimits,
    SandboxServer,
)

__all__ = ["loopback_warning", "sandbox"]


@click.group()
def sandbox() -> None:
    """The embedded Plaid emulator, for tests and demos without Plaid."""


def loopback_warning(host: str) -> str | None:
    """What to say before binding ``host``, if it is reachable from other machines."""
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return (
        f"warning: binding {host}, not loopback: other machines may reach this emulator, "
        "which accepts the fixed test credentials printed below"
    )


def _latency(ctx: click.Context, param: click.Parameter, value: str) -> float | str:
    """``--latency``: a number of seconds, or ``plaid`` for Plaid's balance latency shape."""
    if value == "plaid":
        return value
    try:
        seconds = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a number of seconds nor 'plaid'") from None
    if not 0 <= seconds < float("inf"):
        raise click.BadParameter("must be a finite number of seconds, not negative")
    return seconds


def _rate_limits(value: str) -> RateLimits | None:
    try:
        return RateLimits.parse(value)
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from None


def _fault_options(func: Any) -> Any:
    """One ``--fail-rate-<fault>`` option per fault kind: its ``Faults.rate_<fault>``."""
    helps = {
        "500": "HTTP 500 with Plaid's API_ERROR/INTERNAL_SERVER_ERROR body",
        "502": "HTTP 502 with nginx's HTML page",
        "503": "HTTP 503 with nginx's HTML page",
        "maintenance": "HTTP 503 with Plaid's API_ERROR/PLANNED_MAINTENANCE body",
        "429": "HTTP 429 with Plaid's error --code-429",
        "reset": "the connection is reset, no answer",
        "hang": "no answer until the client goes away",
        "truncate": "a 200 cut short, with a Content-Length that matches the cut",
        "short_read": "a 200 cut short, with a Content-Length that promises more",
        "drip": "the answer one byte every --drip-interval seconds",
    }
    for kind in reversed(FAULT_KINDS):
        func = click.option(
            f"--fail-rate-{kind.replace('_', '-')}",
            f"rate_{kind}",
            type=click.FloatRange(0, 1),
            default=0.0,
            metavar="P",
            help=f"Probability per request: {helps[kind]}.",
        )(func)
    return func


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="0: any free."
)
@click.option("--seed", type=int, help="Seed of the fault and latency draws.")
@click.option("--client-id", help="The client id to accept (default: the fixed test one).")
@click.option("--secret", help="The secret to accept (default: the fixed test one).")
@click.option(
    "--latency",
    callback=_latency,
    default="0",
    metavar="SECONDS|plaid",
    show_default=True,
    help="Seconds before each answer, or 'plaid': /accounts/balance/get as slow as Plaid's "
    "(p50 3 s, p95 11 s).",
)
@click.option(
    "--latency-scale",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Multiplies every latency.",
)
@_fault_options
@click.option(
    "--code-429",
    type=click.Choice(sorted(RATE_LIMIT_CODES)),
    default="RATE_LIMIT",
    show_default=True,
    help="The error code of the 429 fault.",
)
@click.option(
    "--drip-interval",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Seconds between two bytes of a drip answer.",
)
@click.option(
    "--rate-limits",
    callback=lambda ctx, param, value: _rate_limits(value),
    default="off",
    metavar="off|sandbox|production|FIELD=N,...",
    show_default=True,
    help="Enforce Plaid's per-minute limits of that environment, or custom ones such as "
    "'balance_per_client=40,window=1' (see RateLimits.parse).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log each request (tokens as fingerprints).")
def serve(
    host: str,
    port: int,
    seed: int | None,
    client_id: str | None,
    secret: str | None,
    rate_limits: RateLimits | None,
    verbose: bool,
    **fault_values: Any,
) -> None:
    """Serve /accounts/get and /accounts/balance/get until Ctrl+C or SIGTERM."""
    try:
        faults = Faults(**fault_values)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        server = SandboxServer(
            host=host,
            port=port,
            client_id=DEFAULT_CLIENT_ID if client_id is None else client_id,
            secret=DEFAULT_SECRET if secret is None else secret,
            faults=faults,
            seed=seed,
            rate_limits=rate_limits,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if verbose:
        logging.basicConfig(format="%(asctime)s %(message)s")
        logging.getLogger("plaid_async.sandbox").setLevel(logging.DEBUG)
    warning = loopback_warning(host)
    if warning:
        click.echo(warning, err=True)
    try:
        asyncio.run(_serve(server, show_secret=secret is None))
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    except KeyboardInterrupt:  # where signal handlers cannot be set (Windows)
        click.echo("stopped")


async def _serve(server: SandboxServer, *, show_secret: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # On Windows there are no signal handlers: Ctrl+C raises KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    async with server:
        click.echo(f"Plaid sandbox emulator listening on {server.url}")
        click.echo(f"  client_id: {server.client_id}")
        # The fixed test secret is printed; one given with --secret is the caller's own.
        click.echo(
            f"  secret:    {server.secret if show_secret else '(the one given with --secret)'}"
        )
        click.echo("  tokens:    access-sandbox-<anything>, e.g. " + server.token(1))
        click.echo(
            "  errors:    access-sandbox-error_<CODE>-<anything>, "
            "e.g. " + server.error_token("ITEM_LOGIN_REQUIRED")
        )
        click.echo("Press Ctrl+C to stop.")
        await stop.wait()
    click.echo("stopped")
