"""plaid-async against the transport floor (raw aiohttp) and the official plaid-python, in one run.

The emulator runs in its own process on loopback (``plaid-async sandbox serve --latency 0``), so
the CPU time measured here (``time.process_time``: every thread of this process, and nothing
else) is the clients' alone. Each round runs every client once, in a rotating order, on the same
N requests at the same concurrency; the figures are medians over the rounds, because the machine
is shared and noisy, and the ratios are taken within each round before their median.

``--concurrency 16 64`` (the default) measures at 16 and at 64 calls in flight: at 64 the event
loop has many more callbacks, timers and connections to juggle per wake-up, and costs that do
not show in an instruction count (timers, context switches, cache misses) show in CPU time.
``--before DIR`` adds "plaid-async before": the plaid-async of another checkout (``DIR`` put
first on ``PYTHONPATH``, e.g. an unpacked ``git archive`` of the commit before a change), run
in the same rounds, so that a change is measured before and after in one run.

Then the cost of parsing a 3-account and a 100-account response body, bytes to objects:
plaid-async's ``decode_response`` (JSON with exact Decimals, then the typed models), ``json.loads``
alone, and plaid-python's ``ApiClient.deserialize`` (what its ``call_api`` runs on a response:
``json.loads`` then ``validate_and_convert_types`` into its models, type checks on).

Run ``python benchmarks/bench_client.py`` (``--quick`` for a short run, ``--help`` for more).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from plaid_async.sandbox.data import item_for, sandbox_token
from plaid_async.sandbox.server import DEFAULT_CLIENT_ID, DEFAULT_SECRET
from plaid_async.sandbox.wire import dumps

# Each measurement runs in a fresh process of its own (``--child``), which imports only the
# client it measures: plaid-python's thousands of model classes would otherwise sit in every
# client's heap and slow its garbage collections.

TOKEN = sandbox_token(1)
"""An access token whose Item has 3 accounts, like the 3-account parsing case."""
PLAID_VERSION = "2020-09-14"
CLIENTS = ("plaid-async", "raw aiohttp", "plaid-python")
TARGET_VS_RAW = 1.15
TARGET_VS_OFFICIAL = 8.0
TARGET_PARSE_3 = 2.0


# --------------------------------------------------------------------------------------------
# The emulator, in its own process
# --------------------------------------------------------------------------------------------


CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
CLIENT_CPU, SERVER_CPU = (CPUS[0], CPUS[-1]) if len(CPUS) >= 2 else (None, None)
"""With two CPUs or more, the client runs on one and the emulator on another, so that neither
takes the other's CPU or caches in the middle of a measurement."""


def _pin(cpu: int | None) -> Callable[[], None] | None:
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


@contextmanager
def emulator() -> Iterator[str]:
    """Start ``plaid-async sandbox serve`` on a free loopback port; yield its URL."""
    command = [
        sys.executable,
        "-c",
        "from plaid_async.cli import main; main()",
        "sandbox",
        "serve",
        "--port",
        "0",
        "--latency",
        "0",
    ]
    proc = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, text=True, preexec_fn=_pin(SERVER_CPU)
    )
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if "listening on " in line:
                url = line.rsplit(" ", 1)[-1].strip()
        if url is None:
            raise RuntimeError("the emulator did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------------------------
# The three clients: each makes ``n`` calls, at most ``concurrency`` in flight
# --------------------------------------------------------------------------------------------

Measured = tuple[float, float]
"""(wall seconds, CPU seconds of this process) for the ``n`` measured calls."""


async def _gather_bounded(call: Callable[[], Any], n: int, concurrency: int) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            await call()

    await asyncio.gather(*(one() for _ in range(n)))


def _measure(run: Callable[[], object]) -> Measured:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


async def _async_measure(call: Callable[[], Any], n: int, concurrency: int) -> Measured:
    await _gather_bounded(call, concurrency * 2, concurrency)  # warm: open the connections
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    await _gather_bounded(call, n, concurrency)
    return time.perf_counter() - wall, time.process_time() - cpu


def run_plaid_async(url: str, n: int, concurrency: int, observers: Sequence[Any] = ()) -> Measured:
    from plaid_async import PlaidClient

    async def main() -> Measured:
        async with PlaidClient(
            DEFAULT_CLIENT_ID, DEFAULT_SECRET, base_url=url, observers=observers
        ) as client:

            async def call() -> None:
                resp = await client.accounts_get(TOKEN)
                assert len(resp.accounts) == 3

            return await _async_measure(call, n, concurrency)

    return asyncio.run(main())


def run_plaid_async_otel(url: str, n: int, concurrency: int) -> Measured:
    """plaid-async with the OpenTelemetry observer on, the SDK recording every span and metric
    (exporting them is left out: its cost is the exporter's and the collector's)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider

    from plaid_async.otel import OpenTelemetryObserver

    observer = OpenTelemetryObserver(
        tracer_provider=TracerProvider(),
        meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]),
    )
    return run_plaid_async(url, n, concurrency, observers=[observer])


def run_raw_aiohttp(url: str, n: int, concurrency: int) -> Measured:
    """The floor: one session, a semaphore, ``json.loads``; no retries, no models."""
    import aiohttp

    headers = {
        "Content-Type": "application/json",
        "PLAID-CLIENT-ID": DEFAULT_CLIENT_ID,
        "PLAID-SECRET": DEFAULT_SECRET,
        "Plaid-Version": PLAID_VERSION,
    }
    endpoint = url + "/accounts/get"

    async def main() -> Measured:
        async with aiohttp.ClientSession() as session:

            async def call() -> None:
                body = json.dumps({"access_token": TOKEN}).encode()
                async with session.post(endpoint, data=body, headers=headers) as resp:
                    data = json.loads(await resp.read())
                    assert resp.status == 200
                assert len(data["accounts"]) == 3

            return await _async_measure(call, n, concurrency)

    return asyncio.run(main())


def _plaid_python_api(url: str, pool_size: int) -> Any:
    import plaid
    from plaid.api import plaid_api

    configuration = plaid.Configuration(
        host=url,
        api_key={
            "clientId": DEFAULT_CLIENT_ID,
            "secret": DEFAULT_SECRET,
            "plaidVersion": PLAID_VERSION,
        },
    )
    configuration.connection_pool_maxsize = pool_size  # one connection per thread
    return plaid_api.PlaidApi(plaid.ApiClient(configuration))


def run_plaid_python(url: str, n: int, concurrency: int) -> Measured:
    """The official client, as a sync client is run concurrently: one thread per call in flight."""
    from plaid.model.accounts_get_request import AccountsGetRequest

    api = _plaid_python_api(url, concurrency)

    def call(_: int) -> None:
        resp = api.accounts_get(AccountsGetRequest(access_token=TOKEN))
        assert len(resp.accounts) == 3

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(call, range(concurrency * 2)))  # warm
        return _measure(lambda: list(pool.map(call, range(n))))


RUNNERS: Mapping[str, Callable[[str, int, int], Measured]] = {
    "plaid-async": run_plaid_async,
    "plaid-async+otel": run_plaid_async_otel,  # only with --child: the observer's cost
    "raw aiohttp": run_raw_aiohttp,
    "plaid-python": run_plaid_python,
}


BEFORE = "plaid-async before"
"""The plaid-async client of another checkout (``--before``), found in ``BEFORE_PATH``."""
BEFORE_PATH: str | None = None


def _child(*args: str, path: str | None = None) -> Any:
    """Run ``--child args`` in a fresh interpreter, with ``path`` first on ``PYTHONPATH`` if
    given; what it printed, as JSON."""
    command = [sys.executable, __file__, "--child", *args]
    env = None
    if path is not None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([path, os.environ.get("PYTHONPATH", "")]),
        }
    out = subprocess.run(  # noqa: S603
        command, check=True, capture_output=True, text=True, preexec_fn=_pin(CLIENT_CPU), env=env
    ).stdout
    return json.loads(out)


def http_rounds(
    url: str, n: int, concurrency: int, rounds: int, clients: Sequence[str]
) -> dict[str, list[Measured]]:
    results: dict[str, list[Measured]] = {name: [] for name in clients}
    for r in range(rounds):
        order = list(clients[r % len(clients) :]) + list(clients[: r % len(clients)])
        for name in order:
            if name == BEFORE:
                measured = _child(
                    "http", "plaid-async", url, str(n), str(concurrency), path=BEFORE_PATH
                )
            else:
                measured = _child("http", name, url, str(n), str(concurrency))
            wall, cpu = measured
            results[name].append((wall, cpu))
        summary = ", ".join(f"{name} {results[name][-1][1] / n * 1e6:.0f} us" for name in clients)
        print(f"  round {r + 1}/{rounds}: CPU per request: {summary}", flush=True)
    return results


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def response_body(accounts: int) -> bytes:
    """An ``/accounts/get`` body from the emulator's data, with ``accounts`` accounts."""
    found: list[Mapping[str, Any]] = []
    n = 0
    while len(found) < accounts:
        found.extend(item_for(sandbox_token(f"bench-{n}")).accounts)
        n += 1
    if accounts == 3:
        found = list(item_for(TOKEN).accounts)
    payload = {
        "accounts": found[:accounts],
        "item": item_for(TOKEN).item,
        "request_id": "bkVE1BHWMAZ9Rnr",
    }
    return dumps(payload)


class _PlaidPythonResponse:
    """What plaid-python's ``ApiClient.deserialize`` reads: ``data``, the decoded body."""

    def __init__(self, data: str) -> None:
        self.data = data


def make_parser(name: str) -> Callable[[bytes], object]:
    if name == "json.loads":
        return json.loads
    if name == "plaid-async":
        from plaid_async.models import AccountsGetResponse
        from plaid_async.protocol import decode_response

        return lambda body: decode_response(200, {}, body, AccountsGetResponse)
    from plaid.model.accounts_get_response import AccountsGetResponse as Official

    api_client = _plaid_python_api("http://127.0.0.1:1", 1).api_client

    def plaid_python(body: bytes) -> object:
        # ApiClient.__call_api decodes the bytes, then calls deserialize (json.loads, then
        # validate_and_convert_types into the models, with type checks as by default).
        return api_client.deserialize(_PlaidPythonResponse(body.decode("utf-8")), (Official,), True)

    return plaid_python


PARSERS = ("plaid-async", "json.loads", "plaid-python")


def parse_cost(name: str, accounts: int, budget: float) -> float:
    """CPU seconds per body for parser ``name``, timed over about ``budget`` seconds."""
    parse, body = make_parser(name), response_body(accounts)
    loops = 1
    while True:
        gc.collect()
        start = time.process_time()
        for _ in range(loops):
            parse(body)
        spent = time.process_time() - start
        if spent >= budget:
            return spent / loops
        loops = max(loops * 2, int(loops * budget * 1.2 / max(spent, 1e-6)))


def parse_rounds(rounds: int, budget: float) -> dict[int, dict[str, list[float]]]:
    results: dict[int, dict[str, list[float]]] = {3: {}, 100: {}}
    for accounts, by_name in results.items():
        for name in PARSERS:
            by_name[name] = []
        for r in range(rounds):
            for name in PARSERS[r % 3 :] + PARSERS[: r % 3]:
                by_name[name].append(_child("parse", name, str(accounts), str(budget)))
    return results


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _ratios(a: Sequence[float], b: Sequence[float]) -> tuple[float, str]:
    """The median of the ratios within each round, and their range as text."""
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    return statistics.median(ratios), f"rounds {min(ratios):.2f}..{max(ratios):.2f}"


def report_http(results: Mapping[str, list[Measured]], n: int, concurrency: int) -> list[str]:
    failures: list[str] = []
    print(f"\nHTTP: {n} x POST /accounts/get (3 accounts), concurrency {concurrency}, medians")
    print(f"  {'client':<14} {'requests/s':>11} {'CPU us/request':>15}")
    cpu: dict[str, list[float]] = {}
    for name, runs in results.items():
        cpu[name] = [c / n * 1e6 for _, c in runs]
        rps = statistics.median(n / w for w, _ in runs)
        print(f"  {name:<14} {rps:>11.0f} {statistics.median(cpu[name]):>15.1f}")
    if "plaid-async" in cpu and "raw aiohttp" in cpu:
        ratio, spread = _ratios(cpu["plaid-async"], cpu["raw aiohttp"])
        print(f"  plaid-async / raw aiohttp CPU:  {ratio:.2f}x ({spread}; target <= 1.15x)")
        if ratio > TARGET_VS_RAW:
            failures.append(f"plaid-async/raw aiohttp {ratio:.3f}x at {concurrency}")
    if BEFORE in cpu and "raw aiohttp" in cpu:
        ratio, spread = _ratios(cpu[BEFORE], cpu["raw aiohttp"])
        print(f"  plaid-async before / raw aiohttp CPU: {ratio:.2f}x ({spread})")
    if BEFORE in cpu and "plaid-async" in cpu:
        ratio, spread = _ratios(cpu["plaid-async"], cpu[BEFORE])
        print(f"  plaid-async / plaid-async before CPU: {ratio:.2f}x ({spread})")
    if "plaid-async" in cpu and "plaid-python" in cpu:
        ratio, spread = _ratios(cpu["plaid-python"], cpu["plaid-async"])
        print(f"  plaid-python / plaid-async CPU: {ratio:.1f}x ({spread}; target >= 8x)")
        if ratio < TARGET_VS_OFFICIAL:
            failures.append(f"plaid-python/plaid-async {ratio:.1f}x")
    if "raw aiohttp" in cpu and "plaid-python" in cpu:
        ratio, spread = _ratios(cpu["plaid-python"], cpu["raw aiohttp"])
        print(f"  plaid-python / raw aiohttp CPU: {ratio:.1f}x ({spread}; the most any aiohttp")
        print("    client can reach)")
    return failures


def report_parse(results: Mapping[int, Mapping[str, list[float]]]) -> list[str]:
    failures: list[str] = []
    print("\nParsing a response body (bytes to objects), CPU us per body, medians")
    names = list(next(iter(results.values())))
    header = "".join(f"{name:>14}" for name in names)
    print(f"  {'accounts':<9}{header}   plaid-async/json.loads (target <= 2x for 3)")
    for accounts, by_name in results.items():
        cells = "".join(f"{statistics.median(v) * 1e6:>14.1f}" for v in by_name.values())
        ratio, spread = _ratios(by_name["plaid-async"], by_name["json.loads"])
        print(f"  {accounts:<9}{cells}   {ratio:.2f}x ({spread})")
        if accounts == 3 and ratio > TARGET_PARSE_3:
            failures.append(f"parse 3 accounts {ratio:.2f}x json.loads")
    return failures


def child(args: Sequence[str]) -> None:
    """One measurement in this fresh process, printed as JSON for the parent."""
    if args[0] == "http":
        name, url, n, concurrency = args[1:]
        print(json.dumps(RUNNERS[name](url, int(n), int(concurrency))))
    else:
        name, accounts, budget = args[1:]
        print(json.dumps(parse_cost(name, int(accounts), float(budget))))


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=3000, help="calls per run")
    parser.add_argument(
        "-c", "--concurrency", type=int, nargs="+", default=[16, 64], help="calls in flight"
    )
    parser.add_argument(
        "--before",
        metavar="CHECKOUT",
        help="also run the plaid-async of this directory (a checkout of another commit)",
    )
    parser.add_argument("-r", "--rounds", type=int, default=7, help="runs of each client")
    parser.add_argument(
        "--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS), help="HTTP clients to run"
    )
    parser.add_argument("--no-http", action="store_true", help="only the parsing benchmark")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin the clients and the emulator to CPUs"
    )
    parser.add_argument("--no-parse", action="store_true", help="only the HTTP benchmark")
    parser.add_argument("--quick", action="store_true", help="a short run: -n 600 -r 3")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target ratio is missed")
    args = parser.parse_args(argv)
    if args.no_pin:
        global CLIENT_CPU, SERVER_CPU
        CLIENT_CPU = SERVER_CPU = None
    if args.quick:
        args.requests, args.rounds = 600, 3
    clients = list(args.clients)
    if args.before:
        global BEFORE_PATH
        BEFORE_PATH = os.path.abspath(args.before)
        found = subprocess.run(
            [sys.executable, "-c", "import plaid_async; print(plaid_async.__file__)"],
            check=True,
            capture_output=True,
            text=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
            env={**os.environ, "PYTHONPATH": BEFORE_PATH},
        ).stdout.strip()
        if not found.startswith(BEFORE_PATH):
            parser.error(f"--before {args.before}: plaid_async comes from {found} instead")
        print(f"plaid-async before: {found}")
        clients.insert(1, BEFORE)
    failures: list[str] = []
    if not args.no_http:
        with emulator() as url:
            print(f"emulator at {url}; {args.rounds} rounds", flush=True)
            for concurrency in args.concurrency:
                print(f"concurrency {concurrency}:", flush=True)
                results = http_rounds(url, args.requests, concurrency, args.rounds, clients)
                failures += report_http(results, args.requests, concurrency)
    if not args.no_parse:
        budget = 0.05 if args.quick else 0.2
        failures += report_parse(parse_rounds(args.rounds, budget))
    if failures:
        print("\nmissed: " + "; ".join(failures))
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
