"""``tfe document``: a document's versions (``add-version``) and lifecycle from the command line."""

from __future__ import annotations

import typer

document_app = typer.Typer(help="Documents de la GED : versions.", no_args_is_help=True)
