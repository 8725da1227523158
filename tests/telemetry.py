"""The real OpenTelemetry SDK, in memory: finished spans and metric points a test can read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from plaid_async.otel import OpenTelemetryObserver


class Telemetry:
    """A tracer provider and a meter provider of a test's own (the global ones are left alone),
    and an :class:`OpenTelemetryObserver` that reports to them."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.observer = OpenTelemetryObserver(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )
        self._points: dict[str, list[Any]] | None = None

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Finished spans in the order they ended, those called ``name`` if given."""
        spans = list(self.exporter.get_finished_spans())
        return [s for s in spans if name is None or s.name == name]

    def span(self, name: str) -> ReadableSpan:
        (found,) = self.spans(name)
        return found

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.parent is not None and s.parent.span_id == _id(parent)]

    def collect(self) -> None:
        """Read the metrics now; :meth:`points` and :meth:`value` read this collection."""
        self._points = {}
        data = self.reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    self._points.setdefault(metric.name, []).extend(metric.data.data_points)

    def points(self, name: str) -> list[Any]:
        if self._points is None:
            self.collect()
        assert self._points is not None
        return self._points.get(name, [])

    def value(self, name: str, **labels: Any) -> float:
        """A counter's sum, or a histogram's count, over the points whose attributes include
        ``labels`` (dots in attribute names written as ``__``)."""
        wanted = {key.replace("__", "."): value for key, value in labels.items()}
        total = 0.0
        for point in self.points(name):
            if _includes(point.attributes, wanted):
                total += point.count if hasattr(point, "count") else point.value
        return float(total)

    def histogram_sum(self, name: str, **labels: Any) -> float:
        wanted = {key.replace("__", "."): value for key, value in labels.items()}
        return float(sum(p.sum for p in self.points(name) if _includes(p.attributes, wanted)))

    def everything(self) -> Iterator[str]:
        """Every string a span or a metric carries: names, attributes, events, labels."""
        for span in self.spans():
            yield span.name
            yield repr(dict(span.attributes or {}))
            yield repr(span.status.description)
            for event in span.events:
                yield event.name
                yield repr(dict(event.attributes or {}))
        self.collect()
        assert self._points is not None
        for name, points in self._points.items():
            yield name
            for point in points:
                yield repr(dict(point.attributes or {}))


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def _includes(attributes: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> bool:
    attributes = attributes or {}
    return all(attributes.get(key) == value for key, value in wanted.items())
