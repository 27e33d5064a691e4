"""Run the ``tfe`` command line in this process, as ``python -m tfe`` runs it, without a process per call.

``invoke(env, *args, stdin=...)`` calls ``tfe.app.cli.main`` (the entry point itself: one-line errors and
exit codes included) inside ``typer.testing.CliRunner().isolation``: its own stdin, stdout, stderr and
environment (``env`` overrides ``os.environ``; a ``None`` value unsets a variable), and returns what a
subprocess would: exit code, stdout, stderr. An exception that escapes ``main`` is written to stderr as a
traceback, exit code 1, as the interpreter would, so ``"Traceback" not in stderr`` still means something;
warnings logged during the call reach stderr as ``logging.basicConfig`` would send them there.

Every ``Runtime`` the CLI builds during a call is closed after it (the search index's writer lock, the
database's connections: a process's exit releases them, here the next call needs them). The runtimes
share one embedding model per process (``search.embeddings.Embedder``: weights only, no data-dir state),
so the model loads once per test process instead of once per command; spaCy is already cached by
``taxonomy.nlp.load_nlp``. Everything else (database, index, referential, vault) is the data dir's own.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from typer.testing import CliRunner

from search.embeddings import Embedder
from tfe.app import cli
from tfe.app.cli import common
from tfe.app.runtime import Runtime

_EMBEDDERS: dict[int, Embedder] = {}


class _SharedModelRuntime(Runtime):
    opened: list[Runtime] = []  # replaced per call by ``_runtimes``

    def __post_init__(self) -> None:
        _SharedModelRuntime.opened.append(self)

    @cached_property
    def embedder(self) -> Embedder:
        threads = self.settings.embedding_threads
        return _EMBEDDERS.setdefault(threads, Embedder(threads=threads))


@contextmanager
def _runtimes() -> Iterator[None]:
    saved, opened = common.Runtime, _SharedModelRuntime.opened
    common.Runtime = _SharedModelRuntime  # type: ignore[misc]
    _SharedModelRuntime.opened = []
    try:
        yield
    finally:
        common.Runtime = saved  # type: ignore[misc]
        for rt in _SharedModelRuntime.opened:
            rt.close()
        _SharedModelRuntime.opened = opened


@contextmanager
def _stderr_logging() -> Iterator[None]:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


class _OwnThreads:
    """The call's stderr for what the call's threads write; threads that were running before it (a test
    server left by an earlier test in this worker) keep writing to the real stderr, as they would beside
    a separate ``tfe`` process."""

    def __init__(self, captured: Any, real: Any, foreign: set[threading.Thread]) -> None:
        self.captured, self.real, self.foreign = captured, real, foreign

    def write(self, text: str) -> int:
        target = self.real if threading.current_thread() in self.foreign else self.captured
        return int(target.write(text))

    def flush(self) -> None:
        self.captured.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.captured, name)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # SystemExit("message"): the interpreter prints it, exit status 1
    return 1


def invoke(
    env: Mapping[str, str | None], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``tfe ARGS`` in this process with ``env`` over ``os.environ``; the result a subprocess gives."""
    runner = CliRunner()
    before = set(threading.enumerate()) - {threading.current_thread()}  # earlier tests' servers, workers
    real_stderr = sys.stderr
    with runner.isolation(input=stdin or "", env=env) as (out, err, _mixed):
        sys.stderr = _OwnThreads(sys.stderr, real_stderr, before)  # type: ignore[assignment]
        argv = sys.argv
        sys.argv = ["tfe", *args]
        try:
            with _stderr_logging(), _runtimes():
                cli.main()
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc.code)
        except Exception:  # what escapes main: a traceback on stderr, as the interpreter writes it
            traceback.print_exc(file=sys.stderr)
            code = 1
        finally:
            sys.argv = argv
            sys.stdout.flush()
            sys.stderr.flush()
            if isinstance(sys.stderr, _OwnThreads):
                sys.stderr = sys.stderr.captured
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return subprocess.CompletedProcess(["tfe", *args], code, stdout, stderr)
