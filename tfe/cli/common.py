"""Helpers shared by the CLI commands: settings/runtime, output, one-line failures."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, NoReturn

from tfe.runtime import Runtime, open_runtime
from tfe.settings import load_settings


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"tfe: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def runtime() -> Runtime:
    logging.basicConfig(
        level=os.environ.get("TFE_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s %(message)s"
    )
    try:
        settings = load_settings()
    except Exception as exc:  # pydantic ValidationError: bad TFE_* value
        fail(f"invalid settings: {str(exc).splitlines()[0]} — {exc}")
    return open_runtime(settings)


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")
