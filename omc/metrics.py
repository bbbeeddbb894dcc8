"""Every Prometheus metric of the platform, defined once.

Code elsewhere imports the metric objects from here and never creates its own, so
dashboards and alert rules have one list to check against. All names start `omc_`.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "CACHE_REQUESTS",
    "COLLECTOR_FAMILIES",
    "DB_QUERY_SECONDS",
    "HTTP_REQUESTS",
    "HTTP_REQUEST_SECONDS",
    "LAB_NODE_SECONDS",
    "LAB_SESSIONS",
    "LAB_SESSIONS_ACTIVE",
    "LLM_ERRORS",
    "LLM_REQUESTS",
    "LLM_REQUEST_SECONDS",
    "LLM_TOKENS",
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

# Lab sessions, run by workers (a worker serves /metrics on OMC_METRICS_PORT).
LAB_SESSIONS = Counter(
    "omc_lab_sessions",
    "Lab sessions ended, by outcome (skill, no_skill, needs_data, failed, cancelled).",
    ["outcome"],
    registry=REGISTRY,
)
LAB_SESSIONS_ACTIVE = Gauge(
    "omc_lab_sessions_active",
    "Lab sessions running in this process.",
    registry=REGISTRY,
)
LAB_NODE_SECONDS = Histogram(
    "omc_lab_node_duration_seconds",
    "Time one node of the Lab graph took.",
    ["node"],
    buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
    registry=REGISTRY,
)
LLM_REQUESTS = Counter(
    "omc_llm_requests",
    "LLM calls by provider and outcome (ok, error, cached).",
    ["provider", "outcome"],
    registry=REGISTRY,
)
LLM_ERRORS = Counter(
    "omc_llm_errors",
    "Failed LLM calls by provider and kind (rate_limited, server, timeout, invalid_output).",
    ["provider", "kind"],
    registry=REGISTRY,
)
LLM_REQUEST_SECONDS = Histogram(
    "omc_llm_request_duration_seconds",
    "Time one LLM call took.",
    ["provider"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "omc_llm_tokens",
    "Tokens used by provider and kind (prompt, completion).",
    ["provider", "kind"],
    registry=REGISTRY,
)

# Collector metrics are read from the run records when /metrics is scraped, so a run
# made by any process (a CronJob pod, a worker, `omc collect`) shows up in the API's
# metrics. Name -> (type, help, labels); `omc.collectors` yields them from the database.
COLLECTOR_FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "omc_collector_runs": (
        "counter",
        "Collector runs recorded, by final status (ok, failed, disabled).",
        ("collector", "status"),
    ),
    "omc_collector_last_success_timestamp_seconds": (
        "gauge",
        "Unix time the collector last finished a run with status ok.",
        ("collector",),
    ),
    "omc_collector_last_run_duration_seconds": (
        "gauge",
        "Duration of the collector's latest finished run.",
        ("collector",),
    ),
    "omc_collector_last_run_records": (
        "gauge",
        "Records in the latest finished run, by kind (fetched, stored, skipped).",
        ("collector", "kind"),
    ),
    "omc_collector_consecutive_failures": (
        "gauge",
        "Failed runs in a row since the collector's last success.",
        ("collector",),
    ),
    "omc_collector_stale": (
        "gauge",
        "1 when the collector has had no successful run within its staleness window.",
        ("collector",),
    ),
    "omc_collector_completeness_ratio": (
        "gauge",
        "Records fetched in the latest run over the median of recent successful runs.",
        ("collector",),
    ),
    "omc_collector_malformed_ratio": (
        "gauge",
        "Share of fetched items skipped as malformed in the latest run.",
        ("collector",),
    ),
}
