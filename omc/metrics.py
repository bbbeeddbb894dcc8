"""Every Prometheus metric of the platform, defined once.

Code elsewhere imports the metric objects from here and never creates its own, so
dashboards and alert rules have one list to check against. All names start `omc_`.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "CACHE_REQUESTS",
    "DB_QUERY_SECONDS",
    "HTTP_REQUESTS",
    "HTTP_REQUEST_SECONDS",
    "QUEUE_DEPTH",
    "RATE_LIMITED",
    "REGISTRY",
]

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "omc_http_requests",
    "API requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_REQUEST_SECONDS = Histogram(
    "omc_http_request_duration_seconds",
    "Time to answer an API request.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "omc_rate_limited",
    "Requests refused with 429, by the limit that refused them (user or ip).",
    ["scope"],
    registry=REGISTRY,
)
CACHE_REQUESTS = Counter(
    "omc_cache_requests",
    "Cache look-ups by Redis role and result (hit or miss).",
    ["role", "result"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "omc_queue_depth",
    "Tasks waiting in the task queue, read when scraped.",
    registry=REGISTRY,
)
DB_QUERY_SECONDS = Histogram(
    "omc_db_query_duration_seconds",
    "Time the database took to run one statement.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
    registry=REGISTRY,
)
