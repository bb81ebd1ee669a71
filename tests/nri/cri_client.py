#!/usr/bin/python3
"""A test-only CRI client: the calls the kubelet makes to run a pod and its
containers, over gRPC with Debian's python3-grpcio and the messages protoc generates
from CRI's api.proto. One call per invocation:

  cri_client.py SOCKET run-pod NAME [KEY=VALUE]...      prints the pod id
  cri_client.py SOCKET create POD_ID POD_NAME NAME SHARES QUOTA MEMORY [KEY=VALUE]...
                                                        prints the container id
  cri_client.py SOCKET run NAME SHARES QUOTA MEMORY [KEY=VALUE]...
                                                        a pod NAME and its container NAME,
                                                        created and started: prints the
                                                        container id and its first process
  cri_client.py SOCKET start|stop|remove ID
  cri_client.py SOCKET pid ID                           the container's first process
  cri_client.py SOCKET list                             running container ids
  cri_client.py SOCKET remove-all                       stops and removes every pod
  cri_client.py SOCKET files                            the files of the Python modules a
                                                        call loads (SOCKET may not exist),
                                                        to copy the client into a guest

The pod annotations (KEY=VALUE) of create must be those given to run-pod, as the
kubelet sends the pod's whole configuration with every container.
"""
import json
import os
import sys

sys.path.insert(0, os.environ["CRI_PY_DIR"])
import cri_pb2  # noqa: E402  (generated into CRI_PY_DIR by the test)
import grpc  # noqa: E402

IMAGE = "localhost/affine-busybox:1"
CGROUP_PARENT = os.environ.get("CRI_CGROUP_PARENT", "/affine-nri-test")


def call(channel, method, request, response_type):
    stub = channel.unary_unary("/runtime.v1.RuntimeService/" + method,
                               request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=response_type.FromString)
    return stub(request, timeout=60)


def pod_config(name, annotations):
    c = cri_pb2.PodSandboxConfig()
    c.metadata.name = name
    c.metadata.uid = "uid-" + name
    c.metadata.namespace = "default"
    c.log_directory = os.environ["CRI_LOG_DIR"]
    c.linux.cgroup_parent = CGROUP_PARENT
    c.linux.security_context.namespace_options.network = cri_pb2.NODE  # host network: no CNI
    for a in annotations:
        key, value = a.split("=", 1)
        c.annotations[key] = value
    return c


def run_pod(channel, name, annotations):
    return call(channel, "RunPodSandbox",
                cri_pb2.RunPodSandboxRequest(config=pod_config(name, annotations)),
                cri_pb2.RunPodSandboxResponse).pod_sandbox_id


def create(channel, pod_id, pod_name, name, shares, quota, memory, annotations):
    c = cri_pb2.ContainerConfig()
    c.metadata.name = name
    c.image.image = IMAGE
    c.command.extend(["/bin/sleep", "100000"])
    c.log_path = name + ".log"
    r = c.linux.resources
    r.cpu_shares, r.cpu_quota, r.memory_limit_in_bytes = int(shares), int(quota), int(memory)
    r.cpu_period = 100000 if int(quota) > 0 else 0
    req = cri_pb2.CreateContainerRequest(pod_sandbox_id=pod_id, config=c,
                                         sandbox_config=pod_config(pod_name, annotations))
    return call(channel, "CreateContainer", req, cri_pb2.CreateContainerResponse).container_id


def start(channel, container_id):
    call(channel, "StartContainer", cri_pb2.StartContainerRequest(container_id=container_id),
         cri_pb2.StartContainerResponse)


def pid(channel, container_id):
    r = call(channel, "ContainerStatus",
             cri_pb2.ContainerStatusRequest(container_id=container_id, verbose=True),
             cri_pb2.ContainerStatusResponse)
    return json.loads(r.info["info"])["pid"]


def module_files():
    files = set()
    for m in list(sys.modules.values()):
        for attribute in ("__file__", "__cached__"):
            f = getattr(m, attribute, None)
            if f and os.path.exists(f):
                files.add(os.path.realpath(f))
    return sorted(files)


def main():
    sock, verb, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    channel = grpc.insecure_channel("unix://" + sock)
    if verb == "run-pod":
        print(run_pod(channel, args[0], args[1:]))
    elif verb == "create":
        print(create(channel, *args[:6], args[6:]))
    elif verb == "run":
        name, shares, quota, memory = args[:4]
        container_id = create(channel, run_pod(channel, name, args[4:]), name, name, shares, quota, memory, args[4:])
        start(channel, container_id)
        print(container_id, pid(channel, container_id))
    elif verb == "start":
        start(channel, args[0])
    elif verb == "stop":
        call(channel, "StopContainer", cri_pb2.StopContainerRequest(container_id=args[0], timeout=5),
             cri_pb2.StopContainerResponse)
    elif verb == "remove":
        call(channel, "RemoveContainer", cri_pb2.RemoveContainerRequest(container_id=args[0]),
             cri_pb2.RemoveContainerResponse)
    elif verb == "pid":
        print(pid(channel, args[0]))
    elif verb == "list":
        r = call(channel, "ListContainers", cri_pb2.ListContainersRequest(), cri_pb2.ListContainersResponse)
        for c in r.containers:
            if c.state == cri_pb2.CONTAINER_RUNNING:
                print(c.id)
    elif verb == "remove-all":
        r = call(channel, "ListPodSandbox", cri_pb2.ListPodSandboxRequest(), cri_pb2.ListPodSandboxResponse)
        for pod in r.items:
            call(channel, "StopPodSandbox", cri_pb2.StopPodSandboxRequest(pod_sandbox_id=pod.id),
                 cri_pb2.StopPodSandboxResponse)
            call(channel, "RemovePodSandbox", cri_pb2.RemovePodSandboxRequest(pod_sandbox_id=pod.id),
                 cri_pb2.RemovePodSandboxResponse)
    elif verb == "files":
        # A call loads the modules grpc imports lazily; on a socket nobody serves, it fails.
        try:
            call(channel, "Version", cri_pb2.VersionRequest(), cri_pb2.VersionResponse)
        except grpc.RpcError:
            pass
        print("\n".join(module_files()))
    else:
        sys.exit("cri_client.py: unknown verb " + verb)


if __name__ == "__main__":
    main()
