#!/usr/bin/python3
"""A test-only CRI client: the calls the kubelet makes to run a pod and its
containers, over gRPC with Debian's python3-grpcio and the messages protoc generates
from CRI's api.proto. One call per invocation:

  cri_client.py SOCKET run-pod NAME [KEY=VALUE]...      prints the pod id
  cri_client.py SOCKET create POD_ID POD_NAME NAME SHARES QUOTA MEMORY [KEY=VALUE]...
                                                        prints the container id
  cri_client.py SOCKET start|stop|remove ID
  cri_client.py SOCKET pid ID                           the container's first process
  cri_client.py SOCKET list                             running container ids
  cri_client.py SOCKET remove-all                       stops and removes every pod

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


def main():
    sock, verb, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    channel = grpc.insecure_channel("unix://" + sock)
    if verb == "run-pod":
        r = call(channel, "RunPodSandbox",
                 cri_pb2.RunPodSandboxRequest(config=pod_config(args[0], args[1:])),
                 cri_pb2.RunPodSandboxResponse)
        print(r.pod_sandbox_id)
    elif verb == "create":
        pod_id, pod_name, name, shares, quota, memory = args[:6]
        c = cri_pb2.ContainerConfig()
        c.metadata.name = name
        c.image.image = IMAGE
        c.command.extend(["/bin/sleep", "100000"])
        c.log_path = name + ".log"
        r = c.linux.resources
        r.cpu_shares, r.cpu_quota, r.memory_limit_in_bytes = int(shares), int(quota), int(memory)
        r.cpu_period = 100000 if int(quota) > 0 else 0
        req = cri_pb2.CreateContainerRequest(pod_sandbox_id=pod_id, config=c,
                                             sandbox_config=pod_config(pod_name, args[6:]))
        print(call(channel, "CreateContainer", req, cri_pb2.CreateContainerResponse).container_id)
    elif verb == "start":
        call(channel, "StartContainer", cri_pb2.StartContainerRequest(container_id=args[0]),
             cri_pb2.StartContainerResponse)
    elif verb == "stop":
        call(channel, "StopContainer", cri_pb2.StopContainerRequest(container_id=args[0], timeout=5),
             cri_pb2.StopContainerResponse)
    elif verb == "remove":
        call(channel, "RemoveContainer", cri_pb2.RemoveContainerRequest(container_id=args[0]),
             cri_pb2.RemoveContainerResponse)
    elif verb == "pid":
        r = call(channel, "ContainerStatus",
                 cri_pb2.ContainerStatusRequest(container_id=args[0], verbose=True),
                 cri_pb2.ContainerStatusResponse)
        print(json.loads(r.info["info"])["pid"])
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
    else:
        sys.exit("cri_client.py: unknown verb " + verb)


if __name__ == "__main__":
    main()
