"""The HTTP API: FastAPI routes over :class:`~codeeval_rl.service.core.Service`.

Routes and the scope each needs (``policy.yaml`` maps roles to scopes):

=====================================  ==========  =========================================
route                                  scope       what
=====================================  ==========  =========================================
GET  /v1/ping                          (public)    ``"pong"``, as SandboxFusion answers
GET  /v1/health                        (public)    sandbox, store, rate limiter, audit writer
POST /run_code                         run         SandboxFusion's request and response
POST /v1/run, /v1/run_many             run         our Program/Limits -> ExecutionResult(s)
POST /v1/reward                        reward      completions -> reward and components each
POST /v1/evaluate                      evaluate    a job (JSON, or a JSONL upload): 202 + id
GET  /v1/jobs, /v1/jobs/{id}           jobs        your jobs (every key's with jobs:all)
GET  /v1/jobs/{id}/result              jobs        the file ``codeeval-rl evaluate`` writes
GET  /v1/datasets                      datasets    the dataset names jobs may use
GET  /v1/audit                         audit       the audit log, newest first
GET  /metrics                          metrics     Prometheus text
GET  /openapi.json                     any key     the schema
=====================================  ==========  =========================================

Every refusal is JSON naming what is wrong: ``{"error": CODE, "message": TEXT}`` on our
routes, SandboxFusion's ``{"status": "SandboxError", "message": TEXT, ...}`` on ``/run_code``;
malformed JSON, unknown fields and out-of-range values are 422, unusable input (an unknown
language, a task id no task has) 400, a body too large 413. A fault of ours is 500 with a
message and no traceback (the traceback goes to the server log); a store that cannot be
reached is 503.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response, StreamingResponse

from codeeval_rl.errors import InputError, StoreError
from codeeval_rl.service import models as m
from codeeval_rl.service.core import Service
from codeeval_rl.service.gate import _UPLOAD_TYPES, BodyTooLarge, Gate
from codeeval_rl.service.sandboxfusion import error_response, to_program, to_response
from codeeval_rl.service.settings import ServiceSettings
from codeeval_rl.types import Program

__all__ = ["ROUTE_SCOPES", "create_app"]

log = logging.getLogger("codeeval_rl.service")

ROUTE_SCOPES: dict[str, str | None] = {
    "/v1/ping": None,
    "/v1/health": None,
    "/run_code": "run",
    "/v1/run": "run",
    "/v1/run_many": "run",
    "/v1/reward": "reward",
    "/v1/evaluate": "evaluate",
    "/v1/jobs": "jobs",
    "/v1/jobs/{job_id}": "jobs",
    "/v1/jobs/{job_id}/result": "jobs",
    "/v1/datasets": "datasets",
    "/v1/audit": "audit",
    "/metrics": "metrics",
    "/openapi.json": "",
}
"""Route template -> the scope it needs (``None``: public; ``""``: any valid key)."""

_ERR: dict[str, Any] = {"model": m.ErrorOut}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {**_ERR, "description": "No API key, or not a valid one"},
    403: {**_ERR, "description": "The key's role lacks this route's scope"},
    413: {**_ERR, "description": "The request body is too large"},
    422: {**_ERR, "description": "Malformed JSON, a missing or unknown field, a value out of range"},
    429: {**_ERR, "description": "The key's rate or concurrency limit; see Retry-After"},
    500: {**_ERR, "description": "A fault of the server's own"},
    503: {**_ERR, "description": "The store cannot be reached"},
}
_BAD: dict[int | str, dict[str, Any]] = {400: {**_ERR, "description": "Unusable input; the message names it"}}
_SF_ERR: dict[str, Any] = {"model": m.RunCodeResponse}
_SF_REFUSALS = {**_REFUSALS, 400: {**_SF_ERR, "description": "Unsupported language or unusable input"},
                413: {**_SF_ERR, "description": "The request body is too large"},
                422: {**_SF_ERR, "description": "Malformed JSON, a missing field, a value out of range"}}


def _json(body: Any, status: int = 200) -> Any:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type="application/json")


def _error(status: int, error: str, message: str, *, sf: bool = False, headers: dict[str, str] | None = None) -> Any:
    body = error_response(message) if sf else {"error": error, "message": message}
    resp = _json(body, status)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _describe_validation(errors: Any) -> str:
    parts = []
    for e in errors[:10]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        if e.get("type") == "json_invalid":
            ctx = e.get("ctx") or {}
            parts.append(f"the body is not valid JSON ({ctx.get('error', e.get('msg'))})")
        elif e.get("type") in ("extra_forbidden",):
            parts.append(f"{loc}: unknown field")
        else:
            parts.append(f"{loc}: {e.get('msg')}")
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return "; ".join(parts) + more


def create_app(settings: ServiceSettings | None = None, *, service: Service | None = None, **service_kw: Any) -> Any:
    """The ASGI application: FastAPI behind the :class:`~codeeval_rl.service.gate.Gate`.
    ``service`` (or ``Service(settings, **service_kw)``) is started by the app's lifespan and
    closed when it ends."""
    svc = service or Service(settings or ServiceSettings(), **service_kw)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        svc.start()
        log.info(json.dumps({"event": "started", "store": svc.store.location, "keys": len(svc.keys),
                             "rate_limits": "redis" if svc.settings.redis else "memory"}))
        try:
            yield
        finally:
            log.info(json.dumps({"event": "stopping"}))
            await svc.limiter.close()
            svc.close()
            log.info(json.dumps({"event": "stopped"}))

    api = FastAPI(title="CodeEval RL service", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  strict_content_type=False,
                  description="Run untrusted programs, score completions and evaluate sample sets; "
                              "SandboxFusion-compatible /run_code. Every route but /v1/ping and /v1/health needs "
                              "an API key (Authorization: Bearer, X-API-Key, or a /k/KEY path prefix).")
    api.state.service = svc

    # ------------------------------------------------------------------ errors
    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        errors = list(exc.errors())
        ctype = request.headers.get("content-type", "")
        if any(tuple(e.get("loc", ())) == ("body",) and isinstance(e.get("input"), bytes) for e in errors):
            message = (f"the body must be a JSON object sent as Content-Type: application/json "
                       f"(this request said {ctype or 'nothing'!r})")
        else:
            message = _describe_validation(errors)
        return _error(422, "invalid_request", message, sf=request.url.path == "/run_code")

    @api.exception_handler(InputError)
    async def _bad_input(request: Request, exc: InputError) -> Any:
        return _error(400, "bad_input", str(exc), sf=request.url.path == "/run_code")

    @api.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Any:
        return _error(413, "body_too_large", str(exc), sf=request.url.path == "/run_code")

    @api.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> Any:
        log.error("store error on %s: %s", request.url.path, exc)
        return _error(503, "store_unavailable", f"the store cannot be used now: {exc}", headers={"retry-after": "5"})

    @api.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Any:
        names = {404: "not_found", 405: "method_not_allowed"}
        message = (f"no route {request.method} {request.url.path}" if exc.status_code in (404, 405)
                   and exc.detail in ("Not Found", "Method Not Allowed") else str(exc.detail))
        return _error(exc.status_code, names.get(exc.status_code, "http_error"), message)

    @api.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> Any:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, "internal_error", f"the server failed on this request ({type(exc).__name__}); "
                      "its log has the details", sf=request.url.path == "/run_code")

    def key_of(request: Request) -> Any:
        return request.scope["codeeval"]["key"]

    # ------------------------------------------------------------------ public
    @api.get("/v1/ping", response_model=str, responses={500: _REFUSALS[500]})
    async def ping() -> Any:
        return _json("pong")

    @api.get("/v1/health", response_model=m.HealthOut, responses={500: _REFUSALS[500]})
    async def health() -> Any:
        checks = {"sandbox": "ok", "store": "ok", "rate_limiter": svc.limiter.error or "ok",
                  "audit": svc.audit.error or "ok", "keys": svc.keys.error or "ok"}
        try:
            await svc.in_store(svc.store.job_counts)
        except StoreError as exc:
            checks["store"] = str(exc)
        if getattr(svc.sandbox, "_closed", False):
            checks["sandbox"] = "closed"
        ok = all(v == "ok" for v in checks.values())
        return _json({"status": "ok" if ok else "degraded", "checks": checks})

    # ------------------------------------------------------------------ runs
    @api.post("/run_code", response_model=m.RunCodeResponse, responses=_SF_REFUSALS,
              summary="Run one program (SandboxFusion's request and response)")
    async def run_code(body: m.RunCodeRequest) -> Any:
        program, limits = to_program(dict(body), svc.default_limits, svc.max_limits)
        result = await svc.run(program, limits)
        return _json(to_response(result, program.language))

    def program_of(p: m.ProgramIn, where: str = "program") -> Program:
        """The Program of a request; its runtime profile is checked first (400 naming it)."""
        try:
            svc.check_runtime(p.language, p.runtime)
        except InputError as exc:
            raise InputError(f"{where}.runtime: {exc}") from None
        return Program(language=p.language, source=p.source, stdin=p.stdin, files=p.files, runtime=p.runtime,
                       fetch_files=tuple(p.fetch_files))

    @api.post("/v1/run", response_model=m.ExecutionResultOut, responses={**_REFUSALS, **_BAD},
              summary="Run one program")
    async def run(body: m.RunRequest) -> Any:
        limits = svc.limits(dict(body.limits) if body.limits else None)
        result = await svc.run(program_of(body.program), limits)
        return _json(result.to_dict())

    @api.post("/v1/run_many", response_model=m.RunManyResponse, responses={**_REFUSALS, **_BAD},
              summary="Run a batch; a bad item gets a sandbox_error result")
    async def run_many(body: m.RunManyRequest) -> Any:
        limits = svc.limits(dict(body.limits) if body.limits else None)
        programs = [program_of(p, f"programs[{i}]") for i, p in enumerate(body.programs)]
        results = await svc.run_many(programs, limits)
        return _json({"results": [r.to_dict() for r in results]})

    # ------------------------------------------------------------------ rewards
    @api.post("/v1/reward", response_model=m.RewardResponse, responses={**_REFUSALS, **_BAD},
              summary="Score completions as the TRL and veRL reward functions do")
    async def reward(body: m.RewardRequest) -> Any:
        items = [item.model_dump(exclude_none=True) for item in body.items]
        out = await svc.reward(items, body.tasks, body.tests, body.language)
        return _json({"rewards": out})

    # ------------------------------------------------------------------ jobs
    upload_doc = {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/EvaluateRequest"}},
        "application/x-ndjson": {"schema": {"type": "string"}}}}}

    @api.post("/v1/evaluate", status_code=202, response_model=m.JobOut, responses={**_REFUSALS, **_BAD},
              openapi_extra=upload_doc, summary="Start an evaluation job (JSON, or a JSONL upload of samples)")
    async def evaluate(request: Request, dataset: str | None = Query(None, description="With a JSONL upload"),
                       k: str = Query("1,10", description="With a JSONL upload: pass@k values, comma-separated")) -> Any:
        ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        owner = key_of(request)
        if ctype in _UPLOAD_TYPES:
            if dataset is None:
                raise InputError("a JSONL upload needs ?dataset=NAME (tasks of your own: send JSON instead)")
            try:
                ks = svc.check_ks([int(x) for x in k.split(",") if x.strip()] or [1])
            except ValueError:
                raise InputError(f"k={k!r}: expected comma-separated integers such as 1,10") from None
            ids = await svc.in_store(svc.task_ids, dataset, None)
            job_id = svc.new_job_id()
            request.scope["codeeval"]["job_id"] = job_id
            await svc.in_store(lambda: svc.store.begin_job(job_id, owner.name, dataset=dataset, tasks=None, ks=ks))
            try:
                total = await _receive_jsonl(request, job_id, ids)
            except BaseException:
                await svc.in_store(svc.store.discard_job, job_id)
                raise
        else:
            raw = await request.body()
            try:
                body = m.EvaluateRequest.model_validate_json(raw)
            except ValidationError as exc:
                return _error(422, "invalid_request", _describe_validation(list(exc.errors())))
            ks = svc.check_ks(body.k)
            ids = await svc.in_store(svc.task_ids, body.dataset, body.tasks)
            samples = [s.model_dump() for s in body.samples]
            _check_samples(samples, ids)
            if len(samples) > svc.settings.max_samples:
                raise InputError(f"{len(samples)} samples; this server takes at most {svc.settings.max_samples} per job")
            job_id = svc.new_job_id()
            request.scope["codeeval"]["job_id"] = job_id

            def store_job() -> None:
                svc.store.begin_job(job_id, owner.name, dataset=body.dataset, tasks=body.tasks, ks=ks)
                try:
                    for start in range(0, len(samples), 1000):
                        svc.store.add_samples(job_id, start, samples[start:start + 1000])
                except BaseException:
                    svc.store.discard_job(job_id)
                    raise

            await svc.in_store(store_job)
            total = len(samples)
        await svc.in_store(svc.store.accept_job, job_id, total)
        svc.runner.wake()
        job = await svc.in_store(svc.store.get_job, job_id)
        if job is None:
            raise StoreError(f"job {job_id} vanished from the store after it was accepted")
        log.info(json.dumps({"event": "job_accepted", "job": job_id, "key": owner.name, "samples": total}))
        return _json(job.to_dict(), 202)

    def _check_samples(samples: list[dict[str, Any]], ids: set[str]) -> None:
        unknown = sorted({s["task_id"] for s in samples if s["task_id"] not in ids})
        if unknown:
            shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
            raise InputError(f"samples name {len(unknown)} task id(s) the job's tasks do not have: {shown}")

    async def _receive_jsonl(request: Request, job_id: str, ids: set[str]) -> int:
        """Stream a JSONL body into the store, 1000 samples at a time; the line count."""
        buf = b""
        batch: list[dict[str, Any]] = []
        stored = line_no = 0

        async def flush() -> None:
            nonlocal stored, batch
            if batch:
                await svc.in_store(svc.store.add_samples, job_id, stored, batch)
                stored += len(batch)
                batch = []

        def take(line: bytes) -> None:
            nonlocal line_no
            line_no += 1
            if not line.strip():
                return
            try:
                sample = m.SampleIn.model_validate_json(line).model_dump()
            except ValidationError as exc:
                raise InputError(f"line {line_no}: {_describe_validation(list(exc.errors()))}") from None
            if sample["task_id"] not in ids:
                raise InputError(f"line {line_no}: task id {sample['task_id']!r} is not in the job's dataset")
            batch.append(sample)
            if stored + len(batch) > svc.settings.max_samples:
                raise InputError(f"more than {svc.settings.max_samples} samples; this server's limit per job")

        async for chunk in request.stream():
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                take(line)
            if len(batch) >= 1000:
                await flush()
        take(buf)
        await flush()
        if stored == 0:
            raise InputError("the upload holds no samples")
        return stored

    def visible(request: Request, job_id: str) -> Any:
        owner = key_of(request)
        job = svc.store.get_job(job_id)
        if job is None or (job.key_name != owner.name and not svc.policy.allows(owner.role, "jobs:all")):
            return None
        return job

    def stream_result(job: Any, prefix: str, suffix: str) -> Iterator[bytes]:
        yield (prefix + '{\n  "summary": ' + json.dumps(job.summary, indent=2).replace("\n", "\n  ")
               + ',\n  "samples": [').encode()
        first = True
        for rec in svc.store.results(job.id):
            text = json.dumps(rec, indent=2).replace("\n", "\n    ")
            yield (("\n    " if first else ",\n    ") + text).encode()
            first = False
        yield ("\n  ]\n}" + suffix).encode() if not first else ("]\n}" + suffix).encode()

    @api.get("/v1/jobs/{job_id}", response_model=m.JobOut, responses={**_REFUSALS, 404: _ERR},
             summary="A job's state and progress; when done, the results as `codeeval-rl evaluate` writes them")
    async def get_job(request: Request, job_id: str) -> Any:
        request.scope["codeeval"]["job_id"] = job_id[:32]
        job = await svc.in_store(visible, request, job_id)
        if job is None:
            return _error(404, "not_found", f"no job {job_id!r} of yours")
        head = job.to_dict()
        if job.state != "done":
            return _json(head)
        prefix = json.dumps(head)[:-1] + ', "result": '
        return StreamingResponse(stream_result(job, prefix, "}\n"), media_type="application/json")

    @api.get("/v1/jobs/{job_id}/result", response_model=dict[str, Any], responses={**_REFUSALS, 404: _ERR, 409: _ERR},
             summary="The JSON file `codeeval-rl evaluate` writes, once the job is done")
    async def get_result(request: Request, job_id: str) -> Any:
        request.scope["codeeval"]["job_id"] = job_id[:32]
        job = await svc.in_store(visible, request, job_id)
        if job is None:
            return _error(404, "not_found", f"no job {job_id!r} of yours")
        if job.state != "done":
            return _error(409, "not_done", f"job {job_id} is {job.state} "
                          f"({job.done}/{job.total} samples scored){': ' + job.error if job.error else ''}")
        return StreamingResponse(stream_result(job, "", "\n"), media_type="application/json")

    @api.get("/v1/jobs", response_model=m.JobList, responses=_REFUSALS, summary="Your jobs, oldest first")
    async def list_jobs(request: Request, limit: int = Query(100, ge=1, le=10_000)) -> Any:
        owner = key_of(request)
        who = None if svc.policy.allows(owner.role, "jobs:all") else owner.name
        jobs = await svc.in_store(lambda: svc.store.list_jobs(who, limit=limit))
        return _json({"jobs": [j.to_dict() for j in jobs]})

    # ------------------------------------------------------------------ the rest
    @api.get("/v1/datasets", response_model=m.DatasetList, responses=_REFUSALS)
    async def datasets() -> Any:
        return _json({"datasets": svc.catalog.describe()})

    @api.get("/v1/audit", response_model=m.AuditList, responses=_REFUSALS, summary="The audit log, newest first")
    async def audit(limit: int = Query(100, ge=1, le=10_000), key: str | None = Query(None, max_length=64),
                    since: float | None = Query(None, description="Unix time"),
                    route: str | None = Query(None, max_length=200),
                    status: int | None = Query(None, ge=100, le=599)) -> Any:
        await svc.in_store(svc.audit.flush)
        records = await svc.in_store(lambda: svc.store.audit(limit=limit, key_name=key, since=since, route=route,
                                                             status=status))
        return _json({"records": [r.to_dict() for r in records]})

    @api.get("/metrics", response_class=Response, responses={**_REFUSALS, 200: {"content": {"text/plain": {}}}})
    async def metrics() -> Any:
        body, ctype = await svc.in_store(svc.metrics.render)
        return Response(body, media_type=ctype)

    missing = set(ROUTE_SCOPES) - {getattr(r, "path", "") for r in api.routes}
    if missing:
        raise AssertionError(f"ROUTE_SCOPES names routes the app lacks: {sorted(missing)}")
    return Gate(api, svc, ROUTE_SCOPES)
