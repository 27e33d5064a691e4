"""``SealedText``: a text column stored sealed (AES-256-GCM under the database's column data key).

The engine carries its vault (``attach``): every bound value is sealed as ``tfe1:`` + base64 of the
envelope, every loaded value opened. A value without the prefix is a row written before encryption at rest
(it is read as it is, and ``tfe keys status`` counts such rows). An engine without a vault stores plain
text: only bare engines built by tests without settings do (``tfe.core.db.make_engine`` always attaches).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from sqlalchemy import Engine, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["PREFIX", "SealedJSON", "SealedText", "TextSealer", "attach", "sealer_of"]

PREFIX = "tfe1:"
_ATTR = "tfe_vault"


class TextSealer(Protocol):
    """What a column needs from the vault."""

    def seal_text(self, plaintext: str) -> str: ...  # returns PREFIX + base64 envelope

    def open_text(self, sealed: str) -> str: ...  # the inverse; raises on a wrong key or a tampered value


def attach(engine: Engine, sealer: TextSealer) -> None:
    """Seal the ``SealedText`` columns of every statement of ``engine`` with ``sealer``."""
    setattr(engine.dialect, _ATTR, sealer)


def sealer_of(dialect: Dialect) -> TextSealer | None:
    return getattr(dialect, _ATTR, None)


class SealedText(TypeDecorator[str]):
    """A ``Text`` column whose content is encrypted at rest (see the module docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        sealer = sealer_of(dialect)
        text = str(value)
        if sealer is None:
            return text
        return sealer.seal_text(text)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        text = str(value)
        if not text.startswith(PREFIX):
            return text
        sealer = sealer_of(dialect)
        if sealer is None:
            raise RuntimeError("a sealed column was read on an engine without a vault")
        return sealer.open_text(text)


class SealedJSON(TypeDecorator[Any]):
    """A JSON value stored as sealed text (for metadata that may quote a document: Tika fields, digests)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return SealedText().process_bind_param(json.dumps(value, ensure_ascii=False), dialect)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        text = SealedText().process_result_value(value, dialect)
        return json.loads(text) if text else None
