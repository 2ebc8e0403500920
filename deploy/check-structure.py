"""Cross-reference checks that schemas cannot make, for deploy/validate.sh.

A schema says each document is well formed; it cannot say that a compose service depends on
a service that exists, or that a Service selects the pods the Deployment creates. Those
mistakes pass every linter and fail only at deploy time, so they are checked here:

  compose.yaml   depends_on names services; named volumes are declared; bind-mount sources,
                 the build context and the Dockerfile exist; every file a command names under
                 a bind mount exists in the repository.
  k8s manifests  Service, PodDisruptionBudget and spread-constraint selectors match the
                 Deployment's pod labels; the HPA targets the Deployment; configMapRefs,
                 persistentVolumeClaims and the gRPC probe port refer to objects and ports
                 that exist; every Secret referenced is the one docs/operations.md documents.

Usage: check-structure.py COMPOSE_FILE K8S_YAML...   (the K8S_YAML files may hold several
documents each, e.g. the output of `kubectl kustomize`). Prints each problem and exits 1 if
there is any. Needs PyYAML (a dependency of yamllint, in the same venv).
"""

import sys
from pathlib import Path

import yaml

DOCUMENTED_SECRETS = {
    "ansinh-database": {"server-url", "importer-url", "migrator-url", "page-token-key"}
}

problems = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def check_compose(path):
    compose_dir = path.parent
    compose = yaml.safe_load(path.read_text())
    services = compose.get("services", {})
    volumes = set((compose.get("volumes") or {}).keys())
    for name, service in services.items():
        where = f"{path}: services.{name}"
        for dependency in service.get("depends_on", {}) or {}:
            if dependency not in services:
                problem(where, f"depends_on names no service: {dependency}")
        build = service.get("build")
        if isinstance(build, dict):
            context = compose_dir / build.get("context", ".")
            if not context.is_dir():
                problem(where, f"build context {context} does not exist")
            dockerfile = context / build.get("dockerfile", "Dockerfile")
            if not dockerfile.is_file():
                problem(where, f"Dockerfile {dockerfile} does not exist")
        mounts = {}
        for volume in service.get("volumes", []) or []:
            source, _, rest = volume.partition(":")
            target = rest.split(":")[0]
            if source.startswith((".", "/")):
                host = (compose_dir / source).resolve()
                if not host.exists():
                    problem(where, f"bind-mount source {source} does not exist")
                mounts[target] = host
            elif source not in volumes:
                problem(where, f"volume {source} is not declared under volumes:")
        # Files named in the command, relative to the working directory, must exist in a mount.
        workdir = service.get("working_dir", "/srv/ansinh")
        command = (service.get("entrypoint") or []) + (service.get("command") or [])
        if isinstance(command, list):
            for argument in command:
                if "/" not in str(argument) or str(argument).startswith("-"):
                    continue
                in_container = str(argument) if str(argument).startswith("/") else f"{workdir}/{argument}"
                for target, host in mounts.items():
                    if in_container.startswith(target + "/"):
                        relative = in_container[len(target) + 1:]
                        if not (host / relative).exists():
                            problem(where, f"{argument} is not in the mounted {host}")


def labels_match(selector, labels):
    return all(labels.get(key) == value for key, value in (selector or {}).items())


def check_k8s(paths):
    objects = []
    for path in paths:
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                objects.append((path, document))
    by_kind = {}
    for path, obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = (path, obj)

    config_maps = set(by_kind.get("ConfigMap", {}))
    claims = set(by_kind.get("PersistentVolumeClaim", {}))
    deployments = by_kind.get("Deployment", {})

    def pod_specs():
        for name, (path, obj) in deployments.items():
            yield path, f"Deployment/{name}", obj["spec"]["template"]
        for name, (path, obj) in by_kind.get("Job", {}).items():
            yield path, f"Job/{name}", obj["spec"]["template"]
        for name, (path, obj) in by_kind.get("CronJob", {}).items():
            yield path, f"CronJob/{name}", obj["spec"]["jobTemplate"]["spec"]["template"]

    for path, where, template in pod_specs():
        spec = template["spec"]
        for container in spec.get("containers", []):
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef", {}).get("name")
                if ref and ref not in config_maps:
                    problem(f"{path}: {where}", f"configMapRef {ref} does not exist")
            for env in container.get("env", []):
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref and ref.get("key") not in DOCUMENTED_SECRETS.get(ref.get("name"), set()):
                    problem(
                        f"{path}: {where}",
                        f"secret {ref.get('name')}/{ref.get('key')} is not the documented "
                        f"ansinh-database secret",
                    )
            ports = {port["containerPort"] for port in container.get("ports", [])}
            names = {port.get("name") for port in container.get("ports", [])}
            for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
                probe = container.get(probe_name) or {}
                for kind in ("grpc", "tcpSocket"):
                    port = (probe.get(kind) or {}).get("port")
                    if port is not None and port not in ports and port not in names:
                        problem(f"{path}: {where}", f"{probe_name} probes port {port}, which the container does not expose")
        for volume in spec.get("volumes", []):
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and claim not in claims:
                problem(f"{path}: {where}", f"persistentVolumeClaim {claim} does not exist")
        for constraint in spec.get("topologySpreadConstraints", []):
            if not labels_match(constraint["labelSelector"].get("matchLabels"), template["metadata"]["labels"]):
                problem(f"{path}: {where}", "a topologySpreadConstraint does not select the pod's own labels")

    pod_labels = [obj["spec"]["template"]["metadata"]["labels"] for _, obj in deployments.values()]
    for name, (path, obj) in by_kind.get("Service", {}).items():
        selected = [
            deployment["spec"]["template"]
            for _, deployment in deployments.values()
            if labels_match(obj["spec"].get("selector"), deployment["spec"]["template"]["metadata"]["labels"])
        ]
        if not selected:
            problem(f"{path}: Service/{name}", "its selector matches no Deployment's pods")
        exposed = {
            value
            for template in selected
            for container in template["spec"]["containers"]
            for port in container.get("ports", [])
            for value in (port["containerPort"], port.get("name"))
        }
        for port in obj["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            if selected and target not in exposed:
                problem(f"{path}: Service/{name}", f"targetPort {target} is no port of the selected pods")
    for name, (path, obj) in by_kind.get("PodDisruptionBudget", {}).items():
        if not any(labels_match(obj["spec"]["selector"].get("matchLabels"), labels) for labels in pod_labels):
            problem(f"{path}: PodDisruptionBudget/{name}", "its selector matches no Deployment's pods")
    for name, (path, obj) in deployments.items():
        selector = obj["spec"]["selector"]["matchLabels"]
        if not labels_match(selector, obj["spec"]["template"]["metadata"]["labels"]):
            problem(f"{path}: Deployment/{name}", "its selector does not match its own pod template")
    for name, (path, obj) in by_kind.get("HorizontalPodAutoscaler", {}).items():
        target = obj["spec"]["scaleTargetRef"]
        if target["kind"] != "Deployment" or target["name"] not in deployments:
            problem(f"{path}: HorizontalPodAutoscaler/{name}", f"scales {target['kind']}/{target['name']}, which does not exist")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    check_compose(Path(sys.argv[1]))
    check_k8s([Path(argument) for argument in sys.argv[2:]])
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        sys.exit(1)


main()
