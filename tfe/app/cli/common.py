"""Helpers shared by the CLI commands: settings/runtime, output, one-line failures."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Annotated, Any, NoReturn

import typer

from tfe.app.runtime import Runtime
from tfe.core.settings import load_settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Écrit un seul document JSON sur la sortie standard.")]


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"tfe: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def runtime(require_init: bool = True, require_keys: bool = True) -> Runtime:
    """The process's runtime; unless ``require_init`` is False, the installation must be initialised, and
    unless ``require_keys`` is False its keys must not be revoked (``tfe keys`` reports on revoked keys)."""
    logging.basicConfig(
        level=os.environ.get("TFE_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s %(message)s"
    )
    try:
        settings = load_settings()
    except Exception as exc:  # pydantic ValidationError: bad TFE_* value
        fail(f"invalid settings: {str(exc).splitlines()[0]} — {exc}")
    rt = Runtime(settings)
    from tfe.app.jobs.runtimes import register_runtime

    register_runtime(rt)  # reclassification after a taxonomy change finds it from a session
    if require_init:
        _check_installation(rt)
    if require_init and require_keys:
        rt.vault.check()  # revoked keys: say so (KeyRevokedError), instead of answering from an empty index
    return rt


def _check_installation(rt: Runtime) -> None:
    """One clear line instead of a database traceback when ``tfe init`` has not run or the DB is down."""
    from sqlalchemy.exc import SQLAlchemyError

    from tfe.core.db import schema_state

    settings = rt.settings
    if settings.database_url is None and not (settings.resolved_data_dir / "tfe.sqlite3").is_file():
        fail(
            f"no tfe installation in {settings.resolved_data_dir}: run `tfe init` first (or set TFE_DATA_DIR)"
        )
    try:
        state = schema_state(rt.engine)
    except SQLAlchemyError as exc:
        fail(f"cannot use the database: {str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}")
    if state == "missing":
        fail("the database has no tfe schema: run `tfe init` first")
    if state == "outdated":
        fail("the database schema is out of date: run `tfe init` to apply the migrations")


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")
