"""``plaid-async refresh`` exports its traces and metrics over OTLP when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, to a collector stand-in on loopback."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from plaid_async.cli.telemetry import MISSING_NOTE
from plaid_async.sandbox import DEFAULT_SECRET, SandboxServer

from .conftest import ThreadedSandbox, assert_no_leak, refresh, write_tokens

TOKENS = [SandboxServer.token(f"otel-{n}") for n in range(5)]


class Collector:
    """An OTLP/HTTP endpoint that keeps what it is sent, by path."""

    def __init__(self) -> None:
        received: dict[str, list[bytes]] = {}
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.setdefault(self.path, []).append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def spans(self) -> list[tuple[str, dict[str, object]]]:
        out = []
        for body in self.received.get("/v1/traces", []):
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        attributes = {a.key: _value(a.value) for a in span.attributes}
                        out.append((span.name, attributes))
        return out

    def metric_names(self) -> set[str]:
        names = set()
        for body in self.received.get("/v1/metrics", []):
            request = ExportMetricsServiceRequest.FromString(body)
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    names |= {m.name for m in scope_metrics.metrics}
        return names

    def service_names(self) -> set[object]:
        names = set()
        for body in self.received.get("/v1/traces", []):
            for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
                for attribute in resource_spans.resource.attributes:
                    if attribute.key == "service.name":
                        names.add(_value(attribute.value))
        return names

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def _value(value: object) -> object:
    kind = value.WhichOneof("value")  # type: ignore[attr-defined]
    return getattr(value, kind) if kind else None


@pytest.fixture
def collector() -> Iterator[Collector]:
    started = Collector()
    yield started
    started.close()


def test_refresh_exports_a_span_per_token_and_the_metrics(
    tmp_path: Path,
    sandbox: ThreadedSandbox,
    collector: Collector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS)
    sandbox.call(lambda: sandbox.server.enqueue("500"))

    status, stdout, stderr = refresh(sandbox, tokens, tmp_path / "out.jsonl", "--concurrency", "2")

    assert status == 0, stderr
    spans = collector.spans()
    calls = [a for name, a in spans if name == "plaid /accounts/balance/get"]
    sent = [a for name, a in spans if name == "POST /accounts/balance/get"]
    assert len(calls) == len(TOKENS)
    assert len(sent) == sandbox.stats.requests == len(TOKENS) + 1
    assert sorted(a["plaid.attempts"] for a in calls) == [1, 1, 1, 1, 2]  # type: ignore[type-var]
    assert "plaid.client.call.duration" in collector.metric_names()
    assert "plaid.client.retries" in collector.metric_names()
    assert collector.service_names() == {"plaid-async refresh"}
    bodies = [b for bodies in collector.received.values() for b in bodies]
    assert_no_leak([*bodies, stdout, stderr], [*TOKENS, DEFAULT_SECRET])


def test_no_export_without_the_variable(
    tmp_path: Path,
    sandbox: ThreadedSandbox,
    collector: Collector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:2])
    status, _, stderr = refresh(sandbox, tokens, tmp_path / "out.jsonl")
    assert status == 0
    assert collector.received == {}
    assert "OTEL" not in stderr


def test_a_note_when_the_variable_is_set_and_the_packages_are_missing(
    tmp_path: Path,
    sandbox: ThreadedSandbox,
    collector: Collector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    # An entry of None makes the import fail, as if the exporter were not installed.
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:2])
    status, _, stderr = refresh(sandbox, tokens, tmp_path / "out.jsonl")
    assert status == 0
    assert stderr.count(MISSING_NOTE) == 1
    assert collector.received == {}
