"""Request counts and latencies of the HTTP API, served on its own `/metrics` (Prometheus text format)."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def instrument(api: FastAPI) -> CollectorRegistry:
    """Time every request of `api` by route template, method and status; add GET /metrics. Return the registry."""
    registry = CollectorRegistry()
    latency = Histogram("civichain_api_request_seconds", "HTTP API requests: time to answer, by route, method "
                        "and status.", ["route", "method", "status"], buckets=LATENCY_BUCKETS, registry=registry)

    @api.middleware("http")
    async def timed(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")   # the template, so ids do not explode the label set
        latency.labels(template, request.method, str(response.status_code)).observe(time.perf_counter() - started)
        return response

    @api.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry
