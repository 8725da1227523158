"""The command's traces and metrics, exported over OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is
set: the OpenTelemetry observer (:mod:`plaid_async.otel`) on the run's client, with the SDK's
batching span processor and periodic metric reader, flushed when the run ends.

Off unless the variable is set; with it set and the packages missing, a one-line note says
what to install and the run goes on without. The exporters read the other standard variables
themselves (``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_SERVICE_NAME``, ...). Only OTLP over HTTP
(protobuf) is spoken.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import click

from plaid_async import PlaidClient

__all__ = ["ENDPOINT_VARIABLE", "MISSING_NOTE", "exporting"]

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
MISSING_NOTE = (
    f"note: {ENDPOINT_VARIABLE} is set, but OpenTelemetry's SDK and OTLP exporter are not "
    "installed (pip install 'plaid-async[otel]' opentelemetry-sdk "
    "opentelemetry-exporter-otlp-proto-http): no traces or metrics are exported"
)


@contextlib.contextmanager
def exporting(client: PlaidClient, service_name: str) -> Iterator[None]:
    """Export ``client``'s traces and metrics while the block runs, if asked to; flush them at
    the end. ``service_name`` is used unless ``OTEL_SERVICE_NAME`` says otherwise."""
    if not os.environ.get(ENDPOINT_VARIABLE):
        yield
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from plaid_async.otel import OpenTelemetryObserver
    except ImportError:
        click.echo(MISSING_NOTE, err=True)
        yield
        return
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    resource = Resource.create(attributes)
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    meter_provider = MeterProvider(
        resource=resource, metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())]
    )
    observer = OpenTelemetryObserver(tracer_provider=tracer_provider, meter_provider=meter_provider)
    client.add_observer(observer)
    try:
        yield
    finally:
        client.remove_observer(observer)
        tracer_provider.shutdown()  # exports what is left
        meter_provider.shutdown()
