"""The sandbox on a Ray cluster: :class:`RaySandbox` takes the place of
:class:`~codeeval_rl.sandbox.Sandbox` (same ``run`` / ``run_many``) and spreads a batch over
Ray actors that each hold a local fork-server pool. Ray is an optional extra
(``pip install 'codeeval-rl[ray]'``), imported on first use."""

from codeeval_rl.distributed.cluster import Cluster, connect, disconnect
from codeeval_rl.distributed.ledger import Chunk, Ledger
from codeeval_rl.distributed.sandbox import RaySandbox, open_sandbox

__all__ = ["Chunk", "Cluster", "Ledger", "RaySandbox", "connect", "disconnect", "open_sandbox"]
