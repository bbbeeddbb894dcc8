#!/usr/bin/env python3
"""Wrap deploy/monitoring/alerts.yaml into the PrometheusRule of the Kubernetes base.

alerts.yaml (Prometheus rule-file format) is the one place alerts are edited.
Kustomize cannot embed a file as structured YAML, so this script writes its groups,
comments included, under `spec:` of deploy/k8s/base/prometheusrule.yaml.
Run it after editing the alerts; `--check` fails when the output is out of date.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "deploy" / "monitoring" / "alerts.yaml"
TARGET = ROOT / "deploy" / "k8s" / "base" / "prometheusrule.yaml"

HEADER = """\
# Generated from deploy/monitoring/alerts.yaml by scripts/render-prometheusrule.py.
# Do not edit: change alerts.yaml and run the script again.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: omc-alerts
  labels:
    app.kubernetes.io/name: omc
    # kube-prometheus-stack selects rules by its release label; overlays may change it.
    release: kube-prometheus-stack
spec:
"""


def render(source_text: str) -> str:
    """Return the PrometheusRule manifest for the rule file's text."""
    lines = source_text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("groups:"))
    except StopIteration:
        raise SystemExit(f"{SOURCE}: no top-level `groups:` key") from None
    body = ["  " + line if line.strip() else "" for line in lines[start:]]
    return HEADER + "\n".join(body) + "\n"


def main() -> int:
    """Write the manifest, or with --check report whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="fail if the manifest is out of date"
    )
    args = parser.parse_args()
    text = render(SOURCE.read_text(encoding="utf-8"))
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            sys.stderr.write(
                f"{TARGET.relative_to(ROOT)} is out of date: "
                "run scripts/render-prometheusrule.py\n"
            )
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
