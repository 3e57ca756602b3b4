"""A run's events as OpenTelemetry spans, following the GenAI semantic conventions: live
(`OTelSink`, a sink for `Agent(sinks=[...])`) or after the fact (`export_trajectory`,
`harness export otel RUN.jsonl`). Needs the `otel` extra: `pip install -e '.[otel]'`."""

from harness._lazy import lazy_exports

__all__ = ["OTelSink", "export_trajectory"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "OTelSink": "harness.telemetry.spans",
    "export_trajectory": "harness.telemetry.spans",
})
