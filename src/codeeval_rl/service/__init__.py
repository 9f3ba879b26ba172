"""Evaluation as a service: the sandbox and the evaluation engine behind an HTTP API with
API keys, roles, per-key limits and an audit log; ``/run_code`` answers SandboxFusion's
clients unchanged. See docs/service.md.

``create_app(settings)`` builds the ASGI application, ``serve(settings)`` runs it on uvicorn;
FastAPI and uvicorn come with the ``serve`` extra and are imported on first use.
"""

from codeeval_rl.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app", "serve"]


def create_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`codeeval_rl.service.app.create_app`."""
    from codeeval_rl.service.app import create_app as _create

    return _create(*args, **kwargs)


def serve(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`codeeval_rl.service.server.serve`."""
    from codeeval_rl.service.server import serve as _serve

    return _serve(*args, **kwargs)
