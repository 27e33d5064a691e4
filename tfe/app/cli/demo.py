"""``tfe serve`` and ``tfe demo``: the web server, and a ready-to-try installation with demo content."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Annotated

import typer

from tfe.app.cli.common import echo, fail, runtime
from tfe.app.cli.demo_activity import DEFAULT_WEEKS, WeeksOpt, activity_line
from tfe.app.demo.loader import DemoProgress, ensure_demo_accounts, load_demo, start_demo_load
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import FastAPI

HostOpt = Annotated[str | None, typer.Option(help="Interface d'écoute (par défaut TFE_HOST)")]
PortOpt = Annotated[int | None, typer.Option(help="Port (par défaut TFE_PORT)")]
WorkerOpt = Annotated[
    bool,
    typer.Option(
        "--worker/--no-worker",
        help="Exécute aussi les tâches de fond (interrogation des sources) dans ce processus "
        "(sauf si TFE_EMBEDDED_WORKER=false)",
    ),
]
WorkersOpt = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="Processus serveurs (uvicorn) ; plus d'un demande un magasin de compteurs partagé "
        "(TFE_RATELIMIT_URL ou TFE_REDIS_URL)",
    ),
]


def server_app(rt: Runtime, demo: DemoProgress | None = None, *, backfill: bool = True) -> FastAPI:
    """The app ``tfe serve`` and ``tfe demo`` run: uploads a crash left pending are recovered first, and
    (``backfill``) a background worker gives vectors to the passages indexed without one."""
    from ingest.runner import recover_interrupted
    from tfe.app.background import BackfillWorker
    from tfe.app.web.app import create_app

    recovered = recover_interrupted(rt.session_factory)
    if recovered:
        echo(f"{recovered} dépôt(s) interrompu(s) par un arrêt du serveur marqué(s) en échec")
    app = create_app(rt)
    app.state.demo = demo
    app.state.backfill = BackfillWorker(rt).start() if backfill else None
    return app


def _serve(
    rt: Runtime,
    host: str | None,
    port: int | None,
    demo: DemoProgress | None = None,
    *,
    worker: bool = True,
) -> None:
    """Run uvicorn; with ``worker`` (and ``embedded_worker``), the job worker runs beside it and is
    stopped, letting the polls in progress finish, once the server has shut down."""
    import uvicorn

    from tfe.app.jobs import start_worker

    app = server_app(rt, demo)
    embedded = start_worker(rt) if worker and rt.settings.embedded_worker else None
    if embedded is not None:
        echo(f"Tâches de fond : {embedded.threads} en parallèle, file {embedded.jobs.queue.backend}")

    def stop_worker() -> None:
        if embedded is not None and embedded.running:
            embedded.stop()
            echo("Tâches de fond arrêtées")

    class Server(uvicorn.Server):
        """Stops the worker once the server has shut down, before uvicorn re-raises the signal it got."""

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await super().shutdown(sockets)
            await asyncio.to_thread(stop_worker)

    config = uvicorn.Config(
        app,
        host=host or rt.settings.host,
        port=port or rt.settings.port,
        log_level="info",
        proxy_headers=False,  # X-Forwarded-For is read by tfe.app.web.client, from TFE_TRUSTED_PROXIES only
    )
    try:
        Server(config).run()
    finally:  # the server did not start (port taken...) or the shutdown was interrupted
        stop_worker()


def worker_app() -> FastAPI:
    """The app of one ``tfe serve --workers N`` process (an uvicorn factory, imported by its name in each
    child): the settings come from the same environment; recovery, the vector backfill and the job
    worker run once, in the parent (``_serve_workers``)."""
    from tfe.app.web.app import create_app

    app = create_app(runtime())
    app.state.demo = None
    app.state.backfill = None
    return app


def _serve_workers(rt: Runtime, host: str | None, port: int | None, workers: int, *, worker: bool) -> None:
    """``workers`` uvicorn processes on one socket. The guard's budgets and the throttles must be counted
    once for all of them, so a shared store (Redis) is required: process memory would give each process
    its own counters and multiply every budget by ``workers``."""
    import uvicorn

    from ingest.runner import recover_interrupted
    from tfe.app.background import BackfillWorker
    from tfe.app.jobs import start_worker

    if rt.settings.resolved_ratelimit_url.startswith("memory://"):
        fail(
            f"--workers {workers} needs a store of guard counters shared by the processes: "
            "set TFE_RATELIMIT_URL or TFE_REDIS_URL (redis://...)"
        )
    recovered = recover_interrupted(rt.session_factory)
    if recovered:
        echo(f"{recovered} dépôt(s) interrompu(s) par un arrêt du serveur marqué(s) en échec")
    backfill = BackfillWorker(rt).start()
    embedded = start_worker(rt) if worker and rt.settings.embedded_worker else None
    if embedded is not None:
        echo(f"Tâches de fond : {embedded.threads} en parallèle, file {embedded.jobs.queue.backend}")
    echo(f"Serveur : {workers} processus")
    try:
        uvicorn.run(
            "tfe.app.cli.demo:worker_app",
            factory=True,
            workers=workers,
            host=host or rt.settings.host,
            port=port or rt.settings.port,
            log_level="info",
            proxy_headers=False,  # X-Forwarded-For: read by tfe.app.web.client (TFE_TRUSTED_PROXIES only)
        )
    finally:
        if embedded is not None and embedded.running:
            embedded.stop()
            echo("Tâches de fond arrêtées")
        backfill.stop()


def serve(
    host: HostOpt = None, port: PortOpt = None, worker: WorkerOpt = True, workers: WorkersOpt = 1
) -> None:
    """Sert l'interface web et l'API HTTP (et, par défaut, exécute les tâches de fond)."""
    rt = runtime()
    if workers > 1:
        _serve_workers(rt, host, port, workers, worker=worker)
    else:
        _serve(rt, host, port, worker=worker)


def demo(
    host: HostOpt = None,
    port: PortOpt = None,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Démarre le serveur à la fin")
    ] = True,
    worker: WorkerOpt = True,
    weeks: WeeksOpt = DEFAULT_WEEKS,
) -> None:
    """Initialise, charge le corpus et les flux de démonstration, puis sert http://127.0.0.1:8000.

    Avec le serveur, le corpus se charge en arrière-plan (mots-clés d'abord, vecteurs ensuite) et les
    pages affichent la progression ; avec --no-serve, tout est chargé avant de rendre la main. Une
    première fois, --weeks semaines d'activité des collègues du réseau sont simulées (0 : aucune).
    """
    rt = runtime(require_init=False)
    rt = Runtime(rt.settings.model_copy(update={"fetch_allow_private": True}))  # the demo site: loopback
    report = init_installation(rt, channel="demo")
    echo(f"Données : {report.data_dir}")
    creds = ensure_demo_accounts(rt, report.admin_password)
    status = None
    if serve_after:
        status = start_demo_load(rt, weeks=weeks)
        echo("Corpus de démonstration : chargement en arrière-plan (progression affichée sur les pages)")
    else:
        result = load_demo(rt, progress=True, weeks=weeks)
        echo(
            f"Corpus de démonstration : {result['documents']['ok']} ajoutés, "
            f"{result['documents']['duplicate']} déjà présents, {result['documents']['failed']} en échec"
        )
        echo(
            f"Veille : {result['watch']['sources']} sources de démonstration, "
            f"{result['watch']['new_items']} articles nouveaux"
        )
        alerts = result.get("alerts") or {}
        echo(
            f"Alertes : {alerts.get('subscriptions', 0)} abonnements de démonstration, "
            f"{alerts.get('sent', 0)} envois (boîte d'envoi de l'administration)"
        )
        if result.get("activity"):
            echo(activity_line(result["activity"]))
    url = f"http://{host or rt.settings.host}:{port or rt.settings.port}"
    echo("")
    echo(f"Ouvrez {url}/login et connectez-vous :")
    if creds.get("admin"):
        echo(f"  administrateur : {creds['admin']['email']} / {creds['admin']['password']}")
    else:
        echo(f"  administrateur : {report.admin_email} (mot de passe de TFE_ADMIN_PASSWORD)")
    for account in creds["accounts"]:
        echo(f"  {account['org']} : {account['email']} / {account['password']}")
    echo(f"API : curl -H 'Authorization: Bearer {creds['token']}' '{url}/api/search?q=vins+Allemagne'")
    if serve_after:
        _serve(rt, host, port, status, worker=worker)
