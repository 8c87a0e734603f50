"""Container identity from cgroup paths of every runtime and driver we know,
from literal strings (and generated ones)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyperf.containers.cgroup_paths import container_from_cgroups, container_from_path, parse_proc_cgroup
from pyperf.containers.resolver import is_host_cgroup

CID = "89b5c75de8eead52cbc227f7601420e9f80791db7d28a815d2043863df3061d9"
POD = "0f3c9a1e-8a4b-4c2d-9e1f-2a3b4c5d6e7f"


@pytest.mark.parametrize("path, runtime, pod", [
    (f"/docker/{CID}", "docker", ""),                                                     # v1 cgroupfs
    (f"/system.slice/docker-{CID}.scope", "docker", ""),                                   # systemd driver
    (f"/kubepods/burstable/pod{POD}/{CID}", "kubernetes", POD),                            # v1 cgroupfs
    (f"/kubepods/pod{POD}/{CID}", "kubernetes", POD),                                      # guaranteed QoS
    (f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{POD.replace('-', '_')}.slice/"
     f"cri-containerd-{CID}.scope", "kubernetes", POD),                                    # v2 systemd, containerd
    (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{POD.replace('-', '_')}.slice/"
     f"crio-{CID}.scope", "kubernetes", POD),                                              # v2 systemd, cri-o
    (f"/machine.slice/libpod-{CID}.scope", "podman", ""),
    (f"/machine.slice/libpod-{CID}.scope/container", "podman", ""),                        # podman v2 nested
    (f"/libpod_parent/libpod-{CID}", "podman", ""),                                        # podman v1 cgroupfs
    (f"/system.slice/crio-{CID}.scope", "cri-o", ""),
    (f"/containerd/default/{CID}", "containerd", ""),                                      # ctr / nerdctl
    ("/lxc.payload.web1", "lxc", ""),
])
def test_runtime_paths(path, runtime, pod):
    ref = container_from_path(path)
    assert ref is not None, path
    assert ref.runtime == runtime
    assert ref.pod_uid == pod
    if runtime != "lxc":
        assert ref.id == CID


@pytest.mark.parametrize("path", ["/", "/system.slice/nginx.service", "/user.slice/user-1000.slice/session-3.scope",
                                  "/init.scope", "/system.slice/docker.service", "/kubepods/burstable"])
def test_host_paths_are_not_containers(path):
    assert container_from_path(path) is None


def test_host_cgroups():
    assert is_host_cgroup("/") and is_host_cgroup("/system.slice/sshd.service")
    assert not is_host_cgroup("/pyperf-test") and not is_host_cgroup(f"/docker/{CID}")


def test_proc_cgroup_v1_hybrid_and_v2_files():
    v1 = f"12:pids:/docker/{CID}\n11:cpu,cpuacct:/docker/{CID}\n1:name=systemd:/docker/{CID}\n0::/\n"
    lines = parse_proc_cgroup(v1)
    assert lines[1].controllers == ("cpu", "cpuacct")
    ref, path = container_from_cgroups(lines)
    assert ref.id == CID and path == f"/docker/{CID}"
    v2 = f"0::/system.slice/docker-{CID}.scope\n"
    ref, path = container_from_cgroups(parse_proc_cgroup(v2))
    assert ref.runtime == "docker" and path.endswith(".scope")
    ref, path = container_from_cgroups(parse_proc_cgroup("0::/user.slice/user-0.slice\n"))
    assert ref is None and path == "/user.slice/user-0.slice"


@given(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
       st.sampled_from(["/docker/{}", "/system.slice/docker-{}.scope", "/machine.slice/libpod-{}.scope",
                        "/system.slice/crio-{}.scope"]))
def test_any_id_round_trips(container_id, template):
    ref = container_from_path(template.format(container_id))
    assert ref is not None and ref.id == container_id


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-._/", max_size=40))
def test_paths_without_an_id_are_never_containers(path):
    ref = container_from_path("/" + path)
    assert ref is None or ref.runtime == "lxc"


KUBE_ID = "4f" * 32


def _kubelet_logs(root):
    root.mkdir()
    (root / f"web-7d9f_shop_nginx-{KUBE_ID}.log").symlink_to("/nonexistent")
    (root / f"other_default_app-{'0a' * 32}.log").symlink_to("/nonexistent")
    return root


def test_kubernetes_names_from_kubelet_log_links(tmp_path):
    from pyperf.containers.runtimes import kubernetes_meta
    logs = _kubelet_logs(tmp_path / "containers")
    meta = kubernetes_meta(KUBE_ID, str(logs))
    assert (meta.name, meta.pod_name, meta.namespace) == ("nginx", "web-7d9f", "shop")
    assert kubernetes_meta("ab" * 32, str(logs)) is None
    assert kubernetes_meta(KUBE_ID, str(tmp_path / "missing")) is None


def test_resolver_names_a_kubernetes_container(tmp_path):
    from pyperf.containers.resolver import ContainerResolver
    proc = tmp_path / "proc"
    (proc / "42" / "ns").mkdir(parents=True)
    for ns in ("mnt", "net"):
        (proc / "42" / "ns" / ns).write_text("")
    pod = "1b2c3d4e-0000-4000-8000-123456789abc"
    (proc / "42" / "cgroup").write_text(
        f"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{pod.replace('-', '_')}.slice/"
        f"cri-containerd-{KUBE_ID}.scope\n")
    logs = _kubelet_logs(tmp_path / "containers")
    found = ContainerResolver(proc_root=str(proc), runtime_roots={"kubernetes": str(logs)}).by_pid(42)
    assert (found.runtime, found.id, found.name) == ("kubernetes", KUBE_ID, "nginx")
    assert (found.pod_name, found.namespace, found.pod_uid) == ("web-7d9f", "shop", pod)
