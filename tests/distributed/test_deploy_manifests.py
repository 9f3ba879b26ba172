"""The Kubernetes manifests under deploy/kubernetes, validated offline against the Kubernetes
schemas that kubernetes-validate ships (strict: unknown fields are errors), and the promises
docs/deploy.md makes about them: non-root, read-only root, no privilege escalation, a seccomp
profile, resources and limits on every container; sandbox workers reaching only the Ray head
and DNS; the HPA and Ray's autoscaler set up.

KubeRay's RayCluster is a custom resource, for which kubernetes-validate has no schema (it
would only warn): its head and worker pod templates are validated as the PodTemplate they
become, the autoscaler sidecar's settings as a container, and the fields KubeRay reads
(replica bounds, rayStartParams as strings) are checked here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

kv = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
VERSIONS = ("1.30", kv.latest_version())  # the oldest with every field used here, and the newest shipped
IMAGE_UID = 10001


def manifests() -> dict[str, list[dict]]:
    return {p.name: [d for d in yaml.safe_load_all(p.read_text()) if d]
            for p in sorted(KUBE.glob("*.yaml")) if p.name != "kustomization.yaml"}


def resources() -> list[dict]:
    return [d for docs in manifests().values() for d in docs]


def by_kind(kind: str) -> list[dict]:
    return [d for d in resources() if d["kind"] == kind]


def ray_cluster() -> dict:
    (rc,) = by_kind("RayCluster")
    return rc


def pod_templates() -> dict[str, dict]:
    """Every pod template: the Deployment's and the RayCluster's head and worker groups."""
    out = {f"deployment/{d['metadata']['name']}": d["spec"]["template"] for d in by_kind("Deployment")}
    rc = ray_cluster()
    out["raycluster/head"] = rc["spec"]["headGroupSpec"]["template"]
    for group in rc["spec"]["workerGroupSpecs"]:
        out[f"raycluster/{group['groupName']}"] = group["template"]
    return out


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((KUBE / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(manifests())


@pytest.mark.parametrize("version", VERSIONS)
def test_every_resource_validates_strictly(version):
    checked = []
    for doc in resources():
        if doc["kind"] == "RayCluster":
            continue
        kv.validate(doc, version, strict=True)
        checked.append(doc["kind"])
    assert {"Namespace", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "NetworkPolicy"} <= set(checked)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_ray_cluster_pod_templates_and_autoscaler_validate_as_pods(version):
    rc = ray_cluster()
    with pytest.raises(kv.SchemaNotFoundError):  # why the CRD is checked piecewise
        kv.validate(rc, version, strict=True)
    for name, template in pod_templates().items():
        if name.startswith("raycluster/"):
            kv.validate({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": name.split("/")[1]},
                         "template": template}, version, strict=True)
    auto = rc["spec"]["autoscalerOptions"]
    sidecar = {"name": "autoscaler", "image": "x", "env": auto["env"], "resources": auto["resources"],
               "securityContext": auto["securityContext"], "imagePullPolicy": auto["imagePullPolicy"]}
    kv.validate({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "autoscaler"},
                 "template": {"spec": {"containers": [sidecar]}}}, version, strict=True)


def test_a_broken_manifest_is_caught():
    (deployment,) = by_kind("Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRot"] = True
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, VERSIONS[-1], strict=True)


def test_ray_cluster_fields_kuberay_reads():
    spec = ray_cluster()["spec"]
    assert spec["enableInTreeAutoscaling"] is True
    assert spec["autoscalerOptions"]["idleTimeoutSeconds"] > 0
    groups = [spec["headGroupSpec"], *spec["workerGroupSpecs"]]
    for group in groups:
        assert all(isinstance(v, str) for v in group["rayStartParams"].values()), group["rayStartParams"]
    assert spec["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"  # the head runs no programs
    for group in spec["workerGroupSpecs"]:
        assert 0 <= group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
        params = group["rayStartParams"]
        assert "sandbox" in json.loads(json.loads(params["resources"]))
        (container,) = group["template"]["spec"]["containers"]
        assert params["num-cpus"] == container["resources"]["limits"]["cpu"]


@pytest.mark.parametrize("name", sorted(pod_templates()))
def test_pod_security_on_every_container(name):
    spec = pod_templates()[name]["spec"]
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == IMAGE_UID
    assert pod["seccompProfile"]["type"] in ("RuntimeDefault", "Localhost")
    for c in spec["containers"]:
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["runAsNonRoot"] is True
        assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"]
        assert sc["seccompProfile"]["type"] in ("RuntimeDefault", "Localhost")
        assert "privileged" not in sc
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), (name, kind)
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/tmp", "/home/codeeval"} <= mounts  # the writable places on a read-only root
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")


def test_containerfile_runs_as_the_uid_the_pods_ask_for():
    text = (ROOT / "deploy" / "Containerfile").read_text()
    assert f"ARG UID={IMAGE_UID}" in text and "USER ${UID}" in text


def test_sandbox_workers_use_the_shipped_seccomp_profile():
    profile = json.loads((KUBE / "seccomp" / "sandbox-worker.json").read_text())
    denied = {n for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ERRNO" for n in rule["names"]}
    assert {"ptrace", "bpf", "keyctl", "io_uring_setup", "perf_event_open", "kexec_load"} <= denied
    assert not {"unshare", "clone", "mount", "pivot_root", "sethostname"} & denied  # bubblewrap needs them
    for name, template in pod_templates().items():
        if "sandbox" in name:
            spec = template["spec"]
            for sc in [spec["securityContext"], *(c["securityContext"] for c in spec["containers"])]:
                assert sc["seccompProfile"] == {"type": "Localhost",
                                                "localhostProfile": "codeeval-rl/sandbox-worker.json"}
            assert spec["hostUsers"] is False  # procMount Unmasked needs a pod user namespace
            assert spec["containers"][0]["securityContext"]["procMount"] == "Unmasked"


def test_sandbox_workers_reach_only_the_ray_head_and_dns():
    rc = ray_cluster()
    cluster = rc["metadata"]["name"]
    policies = {p["metadata"]["name"]: p for p in by_kind("NetworkPolicy")}
    workers = policies["sandbox-workers-egress"]
    assert workers["metadata"]["namespace"] == rc["metadata"]["namespace"]
    assert workers["spec"]["podSelector"]["matchLabels"] == {"ray.io/cluster": cluster, "ray.io/node-type": "worker"}
    assert "Egress" in workers["spec"]["policyTypes"]
    to_head, to_dns = workers["spec"]["egress"]
    assert to_head == {"to": [{"podSelector": {"matchLabels": {"ray.io/cluster": cluster, "ray.io/node-type": "head"}}}]}
    assert to_dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert {(p["protocol"], p["port"]) for p in to_dns["ports"]} == {("UDP", 53), ("TCP", 53)}


def test_serve_reaches_the_head_service_kuberay_creates():
    rc = ray_cluster()
    head = f"ray://{rc['metadata']['name']}-head-svc.{rc['metadata']['namespace']}.svc:10001"
    (deployment,) = by_kind("Deployment")
    assert f"--ray={head}" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    (hpa,) = by_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    config = yaml.safe_load(by_kind("ConfigMap")[0]["data"]["config.yaml"])
    from codeeval_rl.config import RaySettings

    ray = RaySettings(**config["ray"])
    assert ray.resources == {"sandbox": 1.0}
    for group in rc["spec"]["workerGroupSpecs"]:
        assert int(group["rayStartParams"]["num-cpus"]) % ray.cpus_per_actor == 0  # whole actors per pod
