"""`harness export otel RUN.jsonl [--endpoint URL | --console]`: a recorded run as
OpenTelemetry spans (see `harness.telemetry.spans`).

Exit status: 0 exported, 1 the export failed, 2 bad input or a missing extra.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any
from urllib.parse import urlsplit

OTEL_MISSING = ("needs the otel extra (opentelemetry-api, opentelemetry-sdk): "
                "pip install -e '.[otel]'")
OTLP_MISSING = ("--endpoint needs the OTLP exporter, which is not installed: "
                "pip install opentelemetry-exporter-otlp")


def add_parser(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser("export", help="export a recorded run to other tools",
                            description="Export a recorded run (a trajectory) to other tools.")
    cmds = export.add_subparsers(dest="export_command", metavar="COMMAND", required=True)
    otel = cmds.add_parser("otel", help="a run's events as OpenTelemetry spans", description=(
        "Export a trajectory as OpenTelemetry spans (GenAI semantic conventions) at the "
        "run's own times: one invoke_agent span per run, a chat span per model call, an "
        "execute_tool span per tool call. Unreadable lines are skipped and named."))
    otel.add_argument("file", metavar="RUN.jsonl")
    where = otel.add_mutually_exclusive_group()
    where.add_argument("--endpoint", metavar="URL", help=(
        "an OTLP/HTTP collector, e.g. http://127.0.0.1:4318 (/v1/traces is added to a URL "
        "with no path); needs opentelemetry-exporter-otlp. Without this flag or --console, "
        "OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is used when set"))
    where.add_argument("--console", action="store_true",
                       help="print each span as one line of JSON on stdout")
    otel.set_defaults(func=cmd_otel)


def cmd_otel(args: argparse.Namespace) -> int:
    from harness._console import UsageError, read_trajectory

    trajectory = read_trajectory(args.file)
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        from harness.telemetry.spans import export_trajectory
    except ImportError as exc:
        raise UsageError(OTEL_MISSING) from exc
    exporter, target = _exporter(args)
    provider = TracerProvider(resource=Resource.create({"service.name": "harness"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        spans = export_trajectory(trajectory, provider)
    finally:
        provider.shutdown()
    runs = len({event.run_id for event in trajectory})
    print(f"exported {spans} spans of {runs} run(s) to {target}", file=sys.stderr)
    return 0


def _exporter(args: argparse.Namespace) -> tuple[Any, str]:
    """The span exporter the flags ask for, and what to call its destination."""
    from harness._console import UsageError

    if args.console:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(formatter=lambda span: span.to_json(indent=None) + "\n"), \
            "stdout"
    endpoint = args.endpoint
    if endpoint is None and not (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                                 or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
        raise UsageError("say where the spans go: --endpoint URL or --console")
    try:  # by name: an optional package mypy may not find
        OTLPSpanExporter = importlib.import_module(
            "opentelemetry.exporter.otlp.proto.http.trace_exporter").OTLPSpanExporter
    except ImportError as exc:
        raise UsageError(OTLP_MISSING) from exc
    if endpoint is None:
        return OTLPSpanExporter(), "the endpoint in OTEL_EXPORTER_OTLP_*ENDPOINT"
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--endpoint {endpoint!r}: expected http(s)://HOST:PORT[/PATH]")
    if parts.path in ("", "/"):
        endpoint = endpoint.rstrip("/") + "/v1/traces"
    return OTLPSpanExporter(endpoint=endpoint), endpoint
