"""ray.cluster_utils.Cluster: a cluster of several nodes on this machine, for tests.

As in Ray, the nodes are processes started by this one (`add_node`), stopped by `remove_node`
and `shutdown` (also at exit), and tied to this process: they stop if it dies. Each node has
its own ports, arena and session directory; give each its own loopback address
(`node_ip_address="127.0.0.2"`, ...) to keep nodes apart as separate machines would be.
"""

from __future__ import annotations

import atexit
import os
import signal
import time
from typing import Dict, List, Optional

from ray._private import auth
from ray._private import node as node_mod

# add_node's keyword arguments that this runtime's nodes take (Ray's names).
_NODE_ARGS = {"num_cpus", "num_gpus", "resources", "object_store_memory", "memory", "node_ip_address"}


class ClusterNode:
    """A node this Cluster started."""

    def __init__(self, process: node_mod.NodeProcess, head: bool):
        self._process = process
        self.head = head

    @property
    def node_id(self) -> str:
        return self._process.info["node_id"]

    @property
    def node_ip_address(self) -> str:
        return self._process.info["node_ip"]

    @property
    def address(self) -> str:
        """The control service's address (the cluster's address) for the head node."""
        return self._process.control_address

    @property
    def node_manager_address(self) -> str:
        return self._process.node_manager_address

    @property
    def pid(self) -> int:
        return self._process.process.pid

    def alive(self) -> bool:
        return self._process.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a machine that dies; its arena file is removed after."""
        if self.alive():
            self._process.process.send_signal(signal.SIGKILL)
        self._process.stop(timeout=10)

    def stop(self) -> None:
        self._process.stop()

    def __repr__(self) -> str:
        return f"ClusterNode(node_id={self.node_id[:8]}, ip={self.node_ip_address}, head={self.head})"


class Cluster:
    def __init__(
        self,
        initialize_head: bool = False,
        connect: bool = False,
        head_node_args: Optional[Dict] = None,
        shutdown_at_exit: bool = True,
    ):
        if connect and not initialize_head:
            raise ValueError("Cluster(connect=True) needs initialize_head=True: there is no head to connect to")
        self.head_node: Optional[ClusterNode] = None
        self._token: Optional[str] = None
        self.worker_nodes: List[ClusterNode] = []
        self.connected = False
        if shutdown_at_exit:
            atexit.register(self.shutdown)
        if initialize_head:
            self.add_node(**(head_node_args or {}))
            if connect:
                self.connect()

    @property
    def address(self) -> str:
        if self.head_node is None:
            raise RuntimeError("the cluster has no head node yet: call add_node() first")
        return self.head_node.address

    gcs_address = address

    def add_node(self, wait: bool = True, **node_args) -> ClusterNode:
        """Starts a node: the head first, then nodes that join it. Takes Ray's `num_cpus`,
        `num_gpus`, `resources`, `object_store_memory`, `memory` and `node_ip_address`."""
        unknown = sorted(set(node_args) - _NODE_ARGS)
        if unknown:
            raise ValueError(
                f"Cluster.add_node() does not support {', '.join(unknown)} on this runtime; "
                f"it takes {', '.join(sorted(_NODE_ARGS))}"
            )
        head = self.head_node is None
        if head:
            self._token = (os.environ.get(auth.TOKEN_ENV) or auth.new_token()) if auth.enabled() else None
        process = node_mod.start_node(
            token=self._token,
            head=head,
            session_dir=node_mod.new_session_dir(),
            num_cpus=node_args.get("num_cpus"),
            num_gpus=node_args.get("num_gpus"),
            resources=node_args.get("resources"),
            object_store_memory=node_args.get("object_store_memory"),
            memory=node_args.get("memory"),
            control_address=None if head else self.address,
            node_ip=node_args.get("node_ip_address", "127.0.0.1"),
            parent_pid=os.getpid(),
            detach=True,
        )
        node = ClusterNode(process, head)
        if head:
            self.head_node = node
            if self._token:
                # ray.init(address=cluster.address) in this process or another finds it there.
                auth.record_token(node_mod.TEMP_ROOT, node.address, self._token)
        else:
            self.worker_nodes.append(node)
            if wait:
                self.wait_for_nodes()
        return node

    def remove_node(self, node: ClusterNode, allow_graceful: bool = True) -> None:
        """Stops a node (SIGKILL when not graceful, as a machine that dies)."""
        if node is self.head_node:
            self.head_node = None
            auth.forget_token(node_mod.TEMP_ROOT, node.address)
        elif node in self.worker_nodes:
            self.worker_nodes.remove(node)
        else:
            raise ValueError(f"{node!r} is not a node of this cluster")
        if allow_graceful:
            node.stop()
        else:
            node.kill()

    def list_all_nodes(self) -> List[ClusterNode]:
        return ([self.head_node] if self.head_node else []) + list(self.worker_nodes)

    def wait_for_nodes(self, timeout: float = 30) -> None:
        """Waits until the control service lists exactly this cluster's nodes as alive."""
        if self.head_node is None:
            return
        from ray._private.transport import GrpcTransport
        from ray.rpc import control_service_pb2 as control

        wanted = {n.node_id for n in self.list_all_nodes()}
        auth.use(self._token)
        probe = GrpcTransport(self.address, self.address)
        try:
            deadline = time.monotonic() + timeout
            while True:
                reply = probe.call(
                    "ray.rpc.ControlService/GetAllNodes", control.GetAllNodesRequest(), control.GetAllNodesReply
                )
                alive = {n.node_id.hex() for n in reply.nodes if n.alive}
                if alive == wanted:
                    return
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"Timed out after {timeout} s waiting for {len(wanted)} nodes; {len(alive)} alive"
                    )
                time.sleep(0.1)
        finally:
            probe.close()

    def connect(self, namespace: Optional[str] = None):
        import ray

        context = ray.init(address=self.address, namespace=namespace)
        self.connected = True
        return context

    def shutdown(self) -> None:
        """Disconnects the driver (if connected here) and stops every node, workers first."""
        if self.connected:
            import ray

            ray.shutdown()
            self.connected = False
        for node in list(self.worker_nodes):
            self.remove_node(node)
        if self.head_node is not None:
            self.remove_node(self.head_node)
