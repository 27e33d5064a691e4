"""``tfe poll --once`` (every due source, now, in this process) and ``tfe worker`` (the job consumer)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType
from typing import Annotated, Any

import typer

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime

OnceOpt = Annotated[bool, typer.Option("--once", help="Un seul passage, puis rend la main.")]
ThreadsOpt = Annotated[
    int | None, typer.Option("--threads", min=1, help="Tâches en parallèle (par défaut TFE_WORKER_THREADS)")
]


def poll(once: OnceOpt = False, as_json: JsonOpt = False) -> None:
    """Interroge une fois chaque source due, dans ce processus (sans passer par la file de tâches).

    Les échecs d'une source sont enregistrés sur la source et n'empêchent pas le code de sortie 0.
    """
    if not once:
        fail("précisez --once (l'interrogation continue est le rôle de `tfe worker`)")
    rt = runtime()
    try:
        report = rt.poller.poll_due(progress=not as_json)
    finally:
        rt.close()
    if as_json:
        emit_json(report)
        return
    from tfe.app.jobs.tasks import redact

    echo(_summary(report))
    for source in report["sources"]:
        if source["status"] == "failed":
            echo(f"  échec source {source['id']} ({redact(source['url'])}) : {redact(source['error'] or '')}")


def _summary(report: dict[str, Any]) -> str:
    if not report["polled"]:
        return "Aucune source à interroger pour l'instant."
    return (
        f"{report['polled']} source(s) interrogée(s) : {report['new_items']} nouvel(s) article(s), "
        f"{report['not_modified']} inchangée(s), {report['failed']} en échec"
    )


def worker(threads: ThreadsOpt = None, once: OnceOpt = False) -> None:
    """Exécute les tâches de fond (interrogation des sources) jusqu'à SIGTERM ou Ctrl-C.

    Plusieurs `tfe worker` peuvent tourner ensemble sur une même file Redis (TFE_JOBS_BACKEND=redis).
    """
    from tfe.app.jobs import Jobs, JobWorker, drain

    rt = runtime()
    _log_jobs()
    jobs = Jobs(rt)
    jobs.queue.check()
    count = threads or rt.settings.worker_threads
    if once:
        try:
            report = drain(jobs, count)
        finally:
            rt.close()
        echo(f"{report.enqueued} source(s) mise(s) en file, {report.executed} tâche(s) exécutée(s)")
        return
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()  # a second signal stops at once (the default action), abandoning the polls in progress
        signal.signal(signum, signal.SIG_DFL)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    job_worker = JobWorker(jobs, threads=count, tick_s=rt.settings.poll_tick_s).start()
    print(
        f"tfe worker : {count} tâche(s) en parallèle, file {jobs.queue.backend} ({jobs.queue.location}), "
        f"sources dues examinées toutes les {rt.settings.poll_tick_s} s ; SIGTERM ou Ctrl-C pour arrêter",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print("tfe worker : arrêt (les interrogations en cours se terminent)", file=sys.stderr, flush=True)
        job_worker.stop()
        rt.close()


def _log_jobs() -> None:
    """One line per poll on stderr, with the time, whatever TFE_LOG_LEVEL says of other loggers."""
    logger = logging.getLogger("tfe.app.jobs")
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
