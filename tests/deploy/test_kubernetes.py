"""The kustomize overlays render, validate and say what the platform needs."""

import re
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from omc.settings import Settings
from tests.deploy.conftest import (
    K8S,
    MONITORING,
    by_kind,
    kustomize,
    load_yaml,
    render_overlay,
)

# The cluster versions the manifests must be valid for (oldest supported, newest).
KUBERNETES_VERSIONS = ("1.30.0", "1.35.0")
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
COLLECTORS = sorted(
    name.removesuffix("_cadence_s")
    for name in Settings.model_fields
    if name.endswith("_cadence_s")
)
WORKLOAD_KINDS = {"Deployment", "CronJob", "Job"}

# kubernetes-validate knows only built-in kinds; the Prometheus Operator CRDs are
# checked against these structural schemas of the fields we use instead.
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
SERVICE_MONITOR_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "jobLabel": {"type": "string"},
                "selector": {
                    "type": "object",
                    "required": ["matchLabels"],
                    "properties": {"matchLabels": _LABELS},
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["port", "path"],
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "interval": {"type": "string", "pattern": "^[0-9]+[sm]$"},
                            "scrapeTimeout": {
                                "type": "string",
                                "pattern": "^[0-9]+[sm]$",
                            },
                        },
                    },
                },
            },
        },
    },
}
PROMETHEUS_RULE_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["groups"],
            "properties": {
                "groups": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "rules"],
                        "properties": {
                            "name": {"type": "string"},
                            "interval": {"type": "string"},
                            "rules": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": [
                                        "alert",
                                        "expr",
                                        "labels",
                                        "annotations",
                                    ],
                                    "properties": {
                                        "alert": {"type": "string"},
                                        "expr": {"type": "string"},
                                        "for": {"type": "string"},
                                        "labels": _LABELS,
                                        "annotations": _LABELS,
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
CRD_SCHEMAS = {
    "ServiceMonitor": SERVICE_MONITOR_SCHEMA,
    "PrometheusRule": PROMETHEUS_RULE_SCHEMA,
}


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["kind"] == "CronJob":
        return dict(obj["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(obj["spec"]["template"]["spec"])


def _workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def test_base_renders_on_its_own() -> None:
    objects = kustomize(K8S / "base")

    assert {o["kind"] for o in objects} >= {
        "Deployment",
        "CronJob",
        "Job",
        "Service",
        "Ingress",
        "ConfigMap",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ServiceMonitor",
        "PrometheusRule",
    }


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_builtin_object_validates_against_the_kubernetes_schema(
    rendered: list[dict[str, Any]], version: str
) -> None:
    errors = []
    for obj in rendered:
        if obj["kind"] in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")
    assert errors == []


def test_every_crd_object_validates_against_its_structural_schema(
    rendered: list[dict[str, Any]],
) -> None:
    crds = [o for o in rendered if o["kind"] in CRD_KINDS]

    assert {o["kind"] for o in crds} == CRD_KINDS
    for obj in crds:
        jsonschema.validate(obj, CRD_SCHEMAS[obj["kind"]])


def test_secret_template_and_external_secret_example_are_valid() -> None:
    secret = load_yaml(K8S / "secrets" / "secret.template.yaml")
    external = load_yaml(K8S / "secrets" / "external-secret.example.yaml")

    kubernetes_validate.validate(secret, KUBERNETES_VERSIONS[-1], strict=True)
    assert external["spec"]["target"]["name"] == secret["metadata"]["name"]
    unknown = {
        key.removeprefix("OMC_").lower()
        for key in secret["stringData"]
        if key.removeprefix("OMC_").lower() not in Settings.model_fields
    }
    assert unknown == set(), "secret template names variables Settings lacks"


def test_pods_reference_the_config_and_secret_that_exist(
    rendered: list[dict[str, Any]],
) -> None:
    config_maps = set(by_kind(rendered, "ConfigMap"))
    secret_template = load_yaml(K8S / "secrets" / "secret.template.yaml")

    for obj in _workloads(rendered):
        for container in _pod_spec(obj)["containers"]:
            sources = container["envFrom"]
            assert {
                s["configMapRef"]["name"] for s in sources if "configMapRef" in s
            } <= (config_maps)
            assert [s["secretRef"]["name"] for s in sources if "secretRef" in s] == [
                secret_template["metadata"]["name"]
            ]


def test_every_pod_runs_as_non_root_with_a_read_only_root_and_writable_tmp(
    rendered: list[dict[str, Any]],
) -> None:
    for obj in _workloads(rendered):
        spec = _pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108 - a mount path
            assert container["resources"]["requests"]["memory"]
            assert container["resources"]["limits"]["memory"]


def test_api_and_worker_have_probes_spread_hpa_and_pdb(
    rendered: list[dict[str, Any]],
) -> None:
    deployments = by_kind(rendered, "Deployment")
    hpas = by_kind(rendered, "HorizontalPodAutoscaler")
    pdbs = by_kind(rendered, "PodDisruptionBudget")

    for name in ("omc-api", "omc-worker"):
        spec = deployments[name]["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        keys = {c["topologyKey"] for c in spec["topologySpreadConstraints"]}
        assert "kubernetes.io/hostname" in keys
        assert hpas[name]["spec"]["scaleTargetRef"]["name"] == name
        selector = pdbs[name]["spec"]["selector"]["matchLabels"]
        assert (
            selector.items()
            <= deployments[name]["spec"]["selector"]["matchLabels"].items()
        )
    api_env = {
        e["name"]: e["value"]
        for e in deployments["omc-api"]["spec"]["template"]["spec"]["containers"][0][
            "env"
        ]
    }
    assert api_env["FORWARDED_ALLOW_IPS"] == "*", "client addresses behind ingress"
    assert deployments["omc-scheduler"]["spec"]["replicas"] == 1
    assert "omc-scheduler" not in hpas


def test_deployments_under_an_hpa_leave_the_replica_count_to_it(
    rendered: list[dict[str, Any]],
) -> None:
    deployments = by_kind(rendered, "Deployment")
    targets = {
        hpa["spec"]["scaleTargetRef"]["name"]
        for hpa in by_kind(rendered, "HorizontalPodAutoscaler").values()
    }

    assert targets == {"omc-api", "omc-worker"}
    for name in targets:
        assert "replicas" not in deployments[name]["spec"], (
            f"{name} sets replicas: every apply would reset what the HPA chose"
        )


def test_migration_job_runs_omc_migrate(rendered: list[dict[str, Any]]) -> None:
    job = by_kind(rendered, "Job")["omc-migrate"]

    assert _pod_spec(job)["containers"][0]["args"] == ["migrate"]
    assert _pod_spec(job)["restartPolicy"] == "Never"


def _cron_minutes(schedule: str) -> tuple[set[int], int]:
    """Minutes of the hour a `M * * * *` schedule starts at, and its period in s."""
    minute, hour, *rest = schedule.split()
    assert hour == "*" and rest == ["*", "*", "*"], f"unsupported schedule {schedule}"
    match = re.fullmatch(r"(\*|\d+-\d+|\d+)(?:/(\d+))?", minute)
    assert match, f"unsupported minute field {minute}"
    first = 0 if match[1] == "*" else int(match[1].split("-")[0])
    step = int(match[2]) if match[2] else 60
    minutes = set(range(first, 60, step))
    return minutes, step * 60


def test_every_collector_has_a_cronjob_on_its_cadence_without_overlap(
    rendered: list[dict[str, Any]],
) -> None:
    cronjobs = by_kind(rendered, "CronJob")
    by_collector = {
        c["metadata"]["labels"]["omc.dev/collector"]: c for c in cronjobs.values()
    }

    assert sorted(by_collector) == COLLECTORS
    start_minutes: dict[int, str] = {}
    for name, cronjob in by_collector.items():
        spec = cronjob["spec"]
        job = spec["jobTemplate"]["spec"]
        minutes, period_s = _cron_minutes(spec["schedule"])
        assert _pod_spec(cronjob)["containers"][0]["args"] == ["collect", name]
        assert period_s == Settings.model_fields[f"{name}_cadence_s"].default
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["startingDeadlineSeconds"] > 0
        assert 0 < job["activeDeadlineSeconds"] < period_s
        assert job["backoffLimit"] <= 2
        assert spec["successfulJobsHistoryLimit"] >= 1
        assert spec["failedJobsHistoryLimit"] >= 1
        for minute in minutes:
            assert minute not in start_minutes, (
                f"{name} and {start_minutes[minute]} both start at minute {minute}"
            )
            start_minutes[minute] = name


def test_api_is_reachable_from_the_ingress_controller_and_prometheus_only(
    rendered: list[dict[str, Any]],
) -> None:
    policies = by_kind(rendered, "NetworkPolicy")
    deny = policies["omc-default-deny"]["spec"]
    api = policies["omc-api-ingress"]["spec"]

    assert deny["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "omc"}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    sources = {
        rule["from"][0]["namespaceSelector"]["matchLabels"][
            "kubernetes.io/metadata.name"
        ]
        for rule in api["ingress"]
    }
    assert sources == {"ingress-nginx", "monitoring"}
    assert all(
        rule["ports"] == [{"protocol": "TCP", "port": 8000}] for rule in api["ingress"]
    )


def test_egress_allows_only_dns_database_redis_and_https(
    rendered: list[dict[str, Any]],
) -> None:
    ports: set[int] = set()
    for policy in by_kind(rendered, "NetworkPolicy").values():
        for rule in policy["spec"].get("egress", []):
            ports |= {p["port"] for p in rule["ports"]}
    https = by_kind(rendered, "NetworkPolicy")["omc-egress-https"]["spec"]

    assert ports == {53, 5432, 6379, 443}
    components = https["podSelector"]["matchExpressions"][1]["values"]
    assert set(components) == {"worker", "collector"}


def test_service_monitors_scrape_api_on_8000_and_worker_on_9100(
    rendered: list[dict[str, Any]],
) -> None:
    services = by_kind(rendered, "Service")
    monitors = by_kind(rendered, "ServiceMonitor")
    expected = {"omc-api": 8000, "omc-worker": 9100}

    for name, port in expected.items():
        monitor = monitors[name]["spec"]
        matches = [
            s
            for s in services.values()
            if monitor["selector"]["matchLabels"].items()
            <= s["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, f"{name} selects {len(matches)} services"
        endpoint = monitor["endpoints"][0]
        ports = {p["name"]: p["port"] for p in matches[0]["spec"]["ports"]}
        assert ports[endpoint["port"]] == port
        assert endpoint["path"] == "/metrics"


def test_prometheus_rule_holds_exactly_the_alert_rule_file(
    rendered: list[dict[str, Any]],
) -> None:
    rule = by_kind(rendered, "PrometheusRule")["omc-alerts"]

    assert rule["spec"] == load_yaml(MONITORING / "alerts.yaml")


def test_staging_and_production_differ_in_replicas_size_hosts_and_namespace() -> None:
    staging, production = render_overlay("staging"), render_overlay("production")

    def facts(objects: list[dict[str, Any]]) -> dict[str, Any]:
        deployments = by_kind(objects, "Deployment")
        hpas = by_kind(objects, "HorizontalPodAutoscaler")
        ingress = by_kind(objects, "Ingress")["omc-api"]["spec"]
        return {
            "namespace": {o["metadata"].get("namespace") for o in objects} - {None},
            "host": ingress["rules"][0]["host"],
            "tls": ingress["tls"][0]["hosts"],
            "images": {
                c["image"]
                for o in _workloads(objects)
                for c in _pod_spec(o)["containers"]
            },
            **{
                f"{name} resources": deployments[name]["spec"]["template"]["spec"][
                    "containers"
                ][0]["resources"]
                for name in ("omc-api", "omc-worker")
            },
            **{
                f"{name} hpa": (h["spec"]["minReplicas"], h["spec"]["maxReplicas"])
                for name, h in hpas.items()
            },
        }

    small, large = facts(staging), facts(production)

    for key in small:
        assert small[key] != large[key], f"staging and production share {key}"
    assert small["tls"] == [small["host"]] and large["tls"] == [large["host"]]
    assert len(small["namespace"]) == 1 and len(large["namespace"]) == 1
    for name in ("omc-api", "omc-worker"):
        small_min, small_max = small[f"{name} hpa"]
        large_min, large_max = large[f"{name} hpa"]
        assert small_min < large_min and small_max < large_max
        assert large_min >= 2, f"production {name} needs two replicas for its PDB"
