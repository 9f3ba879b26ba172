"""Joining a Ray cluster, or starting a local one, with faults as one-line errors.

``connect(address)`` resolves the address as the ``ray:`` section documents (``auto``,
``local``, ``HOST:PORT``, ``ray://HOST:PORT``). An explicit address (or ``RAY_ADDRESS``) is
probed with a plain TCP connection first, so an unreachable head is an :class:`InputError`
within seconds rather than Ray's long retry loop. Ray's usage statistics are off unless
``RAY_USAGE_STATS_ENABLED`` says otherwise (nothing of ours reaches the network on its own).

When this process is already connected (``ray.init`` ran before, as in a Ray job or a trainer
launched by Ray), that connection is used as it is and left open at the end.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from codeeval_rl.errors import InputError, SandboxUnavailable, require

__all__ = ["Cluster", "connect", "disconnect", "parse_address", "ray_module"]

_PROBE_TIMEOUT_S = 5.0


def ray_module() -> Any:
    """The ``ray`` module, or :class:`MissingDependency` with the pip command."""
    return require("ray", "ray")


@dataclass(frozen=True)
class Cluster:
    """The Ray cluster this process is connected to. ``owned``: this call opened the
    connection (and a local cluster it started), so :func:`disconnect` closes it."""

    address: str
    cpus: float
    nodes: int
    owned: bool


def parse_address(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of an explicit address; ``None`` for ``auto`` and ``local``.
    :class:`InputError` for anything else that is not ``HOST:PORT`` or ``ray://HOST:PORT``."""
    if address in ("auto", "local"):
        return None
    rest = address.split("://", 1)[1] if address.startswith("ray://") else address
    if "://" in address and not address.startswith("ray://"):
        raise InputError(f"Ray address {address!r}: expected auto, local, HOST:PORT or ray://HOST:PORT")
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"Ray address {address!r}: expected auto, local, HOST:PORT or ray://HOST:PORT")
    return host, int(port)


def _probe(address: str) -> None:
    target = parse_address(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=_PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise InputError(f"cannot reach the Ray cluster at {address}: {why}; start one with "
                         "'ray start --head' or use --ray auto for a local one") from None


def connect(address: str = "auto") -> Cluster:
    """Connect this process to Ray (see the module docstring); :class:`MissingDependency`
    without ray, :class:`InputError` for a bad or unreachable address,
    :class:`SandboxUnavailable` when Ray itself fails to start or join."""
    ray = ray_module()
    if ray.is_initialized():
        return _describe(ray, address, owned=False)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address.startswith("ray://"):
        require("grpc", "ray")  # Ray Client's transport; ray's core install lacks it
    env_address = os.environ.get("RAY_ADDRESS", "")
    if address == "auto" and env_address:
        _probe(env_address)
    else:
        _probe(address)
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address == "local":
        kwargs["include_dashboard"] = False
    try:
        ray.init(address=None if address == "auto" else address, **kwargs)
    except (ConnectionError, TimeoutError) as exc:
        raise InputError(f"cannot join the Ray cluster at {address}: {_first_line(exc)}") from None
    except ValueError as exc:
        raise InputError(f"Ray address {address!r}: {_first_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - Ray's own faults, as one line
        raise SandboxUnavailable(f"Ray did not start or join a cluster at {address}: {_first_line(exc)}") from None
    return _describe(ray, address, owned=True)


def disconnect(cluster: Cluster) -> None:
    """Close the connection if :func:`connect` opened it (stopping a local cluster it started)."""
    if cluster.owned:
        ray = ray_module()
        if ray.is_initialized():
            ray.shutdown()


def _describe(ray: Any, address: str, owned: bool) -> Cluster:
    resources = ray.cluster_resources()
    nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    return Cluster(address=address, cpus=float(resources.get("CPU", 0.0)), nodes=nodes, owned=owned)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
