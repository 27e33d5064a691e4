"""``tfe keys status|rotate|revoke``: the operator's key-encryption key and the data keys it wraps."""

from __future__ import annotations

import typer

keys_app = typer.Typer(help="Clés de chiffrement : état, rotation, révocation.", no_args_is_help=True)
