#!/usr/bin/env bash
# Install the tools the deployment tests (tests/deploy) need, when missing:
#   promtool and prometheus   Debian package `prometheus`
#   kustomize                 built into kubectl (v1.14+, kustomize v5 since 1.27),
#                             or a standalone `kustomize` on PATH
# The schema validator (kubernetes-validate) is a dev dependency of the project
# and comes with `uv sync`. Safe to run again: it installs only what is missing.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  as_root apt-get update -q
  # Without an init system (containers, CI) the prometheus service is installed
  # but not started; the tests start their own server on loopback.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# kustomize v4 or newer: the manifests use `labels:` and `patches:`.
has_kustomize() {
  if command -v kustomize >/dev/null 2>&1 \
    && kustomize version 2>/dev/null | grep -Eq 'v[4-9]\.'; then
    return 0
  fi
  command -v kubectl >/dev/null 2>&1 \
    && kubectl version --client 2>/dev/null | grep -Eq 'Kustomize Version: v[4-9]\.'
}

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  echo "ops-tools: installing prometheus (promtool, prometheus)"
  apt_install prometheus
fi

if ! has_kustomize; then
  echo "ops-tools: installing kubectl (for kubectl kustomize)"
  # The kubectl package comes from the Google Cloud apt repository that this
  # project's machines ship with; Debian's own kubernetes-client is v1.20, whose
  # kustomize (v2) cannot render these manifests.
  apt_install kubectl || true
fi

if ! has_kustomize; then
  echo "ops-tools: no kustomize v4+ found; install kubectl >= 1.27 or kustomize v5" >&2
  exit 1
fi

promtool --version 2>&1 | head -n 1
if command -v kustomize >/dev/null 2>&1; then kustomize version; else kubectl version --client | grep Kustomize; fi
