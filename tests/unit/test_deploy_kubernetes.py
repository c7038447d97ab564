"""deploy/kubernetes: the Kustomize base and the production overlay render with `kubectl kustomize`, every
object validates (strictly: no unknown field) against the Kubernetes JSON schemas shipped by
`kubernetes-validate`, and the wiring the README promises holds: probes on /readyz and /healthz, preStop
and the termination grace period covering the drain, an HPA and a PDB on the gateway, the migration Job,
ExternalName services for the Postgres primary/replica and Redis."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.30"
KUBECTL = shutil.which("kubectl")


def render(tmp_path: Path, overlay: str) -> list[dict[str, Any]]:
    assert KUBECTL, "kubectl (Debian package kubernetes-client) is needed for `kubectl kustomize`"
    tree = tmp_path / "kubernetes"
    shutil.copytree(ROOT / "deploy" / "kubernetes", tree)
    prod = tree / "overlays" / "production"
    shutil.copy(prod / "secrets.env.example", prod / "secrets.env")  # kept out of git in real use
    out = subprocess.run([KUBECTL, "kustomize", str(tree / overlay)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_renders_and_validates_against_the_schemas(tmp_path: Path, overlay: str) -> None:
    docs = render(tmp_path, overlay)
    kinds = sorted({d["kind"] for d in docs})
    assert kinds == ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Job", "Namespace",
                     "PodDisruptionBudget", "Secret", "Service", "ServiceAccount"]
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)  # raises on any schema error
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "vmx"


def test_an_unknown_field_is_caught(tmp_path: Path) -> None:
    pdb = by_kind(render(tmp_path, "base"), "PodDisruptionBudget", "vmx-gateway")
    pdb["spec"]["minAvailabel"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pdb, K8S_VERSION, strict=True)


def test_gateway_wiring(tmp_path: Path) -> None:
    docs = render(tmp_path, "overlays/production")
    gateway = by_kind(docs, "Deployment", "vmx-gateway")
    pod = gateway["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"][:2] == ["vmx", "gateway"] and "--no-migrate" in container["command"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    config = by_kind(docs, "ConfigMap", "vmx-config")["data"]
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    drain = float(config["VMX_SHUTDOWN_DRAIN_DELAY_SECONDS"]) + float(config["VMX_SHUTDOWN_GRACE_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + drain + 5  # room for the audit flush
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert gateway["spec"]["replicas"] == 3 and config["REDIS_MODE"] == "cluster"
    hpa = by_kind(docs, "HorizontalPodAutoscaler", "vmx-gateway")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "vmx-gateway" and hpa["spec"]["minReplicas"] == 3
    pdb = by_kind(docs, "PodDisruptionBudget", "vmx-gateway")
    assert pdb["spec"]["selector"]["matchLabels"] == gateway["spec"]["selector"]["matchLabels"]
    assert by_kind(docs, "Job", "vmx-migrate")["spec"]["template"]["spec"]["containers"][0]["command"] == \
        ["vmx", "migrate"]
    secret = by_kind(docs, "Secret", "vmx-secrets")
    assert set(secret["data"]) >= {"DATABASE_URL", "DATABASE_RO_URL", "REDIS_URL"}  # from secrets.env
    external = {d["metadata"]["name"]: d["spec"]["externalName"] for d in docs
                if d["kind"] == "Service" and d["spec"].get("type") == "ExternalName"}
    assert set(external) == {"postgres-primary", "postgres-replica", "redis"}
    assert all(host.endswith("amazonaws.com") for host in external.values())  # the overlay's hosts
    console = by_kind(docs, "Deployment", "vmx-console")
    assert console["spec"]["template"]["spec"]["containers"][0]["command"][:2] == ["vmx", "run"]
