"""The `dymunim` command: up, dispatch, executor, api, run, migrate, openapi."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

from dymunim import logs
from dymunim.settings import Settings, get_settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="dymunim: durable jobs for arbitrary code on Postgres + pgmq and Dynamic Workers.",
)


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """asyncio on uvloop (as uvicorn already runs the API): a cheaper event loop on the hot path."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _dsn(settings: Settings) -> str:
    if not settings.database_url:
        raise typer.BadParameter("DATABASE_URL is not set (dymunim up sets it for its children)")
    return settings.database_url


def _executor_url(settings: Settings) -> str:
    url = settings.executor_url or settings.cloudflare_worker_url
    if not url:
        raise typer.BadParameter("no executor: set CLOUDFLARE_WORKER_URL or DYMUNIM_EXECUTOR_URL")
    return url


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="API and UI port (default 3000)")] = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the embedded Postgres keeps its data")] = None,
) -> None:
    """Start everything: embedded Postgres + pgmq, executor pool, dispatcher, API and UI."""
    from dymunim.up import run_up

    logs.setup("up")
    s = get_settings()
    overrides: dict[str, Any] = {
        k: v for k, v in {"port": port, "host": host, "data_dir": data_dir}.items() if v is not None
    }
    raise typer.Exit(run_up(s.model_copy(update=overrides)))


@app.command()
def migrate() -> None:
    """Apply database migrations (installs pgmq if needed)."""
    from dymunim.db.migrate import MigrationChanged
    from dymunim.db.migrate import migrate as do_migrate

    logs.setup("migrate")
    try:
        applied = do_migrate(_dsn(get_settings()))
    except MigrationChanged as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))


@app.command()
def dispatch() -> None:
    """Run a dispatcher: claim jobs from pgmq, run them on the executor, record the outcomes."""
    from dymunim.db.pool import open_pool
    from dymunim.dispatch.dispatcher import Dispatcher
    from dymunim.execute.client import ExecutorClient
    from dymunim.execute.direct import DirectExecutor

    logs.setup("dispatch")
    s = get_settings()
    dsn, url = _dsn(s), _executor_url(s)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        pool = await open_pool(dsn, min_size=2, max_size=8, name="dymunim dispatcher")
        client = ExecutorClient(url, s.executor_token)
        # The local pool (no CLOUDFLARE_WORKER_URL): warm jobs straight to workerd, the supervisor watching.
        executor = DirectExecutor(client) if s.direct_dispatch and not s.cloudflare_worker_url else client
        try:
            await Dispatcher(s, dsn, pool, executor).run(stop)
        finally:
            await executor.aclose()
            await pool.close()

    run_loop(main())


@app.command()
def executor(
    port: Annotated[int, typer.Option(help="Loopback port to serve the executor contract on")] = 8787,
    ready_file: Annotated[Path | None, typer.Option(hidden=True)] = None,
) -> None:
    """Run the local executor: a supervised pool of workerd processes behind the Worker's HTTP contract."""
    from dymunim.execute.supervisor import serve

    logs.setup("executor")
    run_loop(serve(get_settings(), port, ready_file=ready_file))


@app.command()
def api(
    port: Annotated[int, typer.Option()] = 3000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    ready_file: Annotated[Path | None, typer.Option(hidden=True)] = None,
) -> None:
    """Serve the API and UI."""
    import uvicorn

    from dymunim.api.app import create_app

    logs.setup("api")
    s = get_settings()
    uvicorn.run(
        create_app(s, _dsn(s), _executor_url(s), ready_file),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


def openapi_document() -> str:
    """The API's OpenAPI document as the web client is generated from it (web/openapi.json).

    Built from the app itself, never from a running server: default settings read from no
    environment, placeholder addresses (the lifespan that would use them does not run), keys sorted
    and a trailing newline, so the same code always writes the same bytes.
    """
    from dymunim.api.app import create_app

    api_app = create_app(Settings.model_construct(), "postgresql://unused", "http://unused")
    return json.dumps(api_app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@app.command()
def openapi(
    out: Annotated[Path | None, typer.Option(help="Write the document here instead of stdout")] = None,
) -> None:
    """Write the API's OpenAPI document (JSON, sorted keys) without starting a server."""
    doc = openapi_document()
    if out is None:
        sys.stdout.write(doc)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(doc, encoding="utf-8")


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="JavaScript file: a function body or a module", exists=True)],
    payload: Annotated[str, typer.Option(help="JSON payload")] = "null",
    cache_id: Annotated[str | None, typer.Option(help="Run in a warm isolate under this id")] = None,
    url: Annotated[str, typer.Option(help="dymunim API base URL")] = "http://127.0.0.1:3000",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the result")] = 60,
) -> None:
    """Submit a file as a job, wait, print its result and logs. Exit 0 on success, 1 on failure."""
    import httpx

    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        typer.echo(f"--payload is not valid JSON: {exc}", err=True)
        raise typer.Exit(2) from None
    s = get_settings()
    headers = {"Authorization": f"Bearer {s.api_token}"} if s.api_token else {}
    body = {"code": file.read_text(), "payload": data, "cache_id": cache_id}
    try:
        resp = httpx.post(
            f"{url.rstrip('/')}/api/jobs", params={"wait": wait}, json=body, headers=headers, timeout=wait + 10
        )
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach dymunim at {url}: {exc} (is `dymunim up` running?)", err=True)
        raise typer.Exit(2) from None
    job = resp.json()
    if resp.status_code >= 400:
        typer.echo(f"refused ({resp.status_code}): {job.get('detail', job)}", err=True)
        raise typer.Exit(2)
    for line in job.get("execution_logs", []):
        typer.echo(f"[{line['level']}] {line['message']}", err=True)
    status = job["status"]
    if status == "succeeded":
        typer.echo(json.dumps(job["result"], indent=2))
        raise typer.Exit(0)
    err = job.get("error") or {}
    typer.echo(f"job {job['job_id']} {status}: {err.get('name', '')}: {err.get('message', '')}", err=True)
    if err.get("stack"):
        typer.echo(err["stack"], err=True)
    raise typer.Exit(1 if status in ("failed", "dead", "cancelled") else 3)


def main() -> None:  # pragma: no cover - console entry
    app(prog_name="dymunim")
    sys.exit(0)
