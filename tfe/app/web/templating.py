"""The Jinja2 environment of the HTML pages (templates and static files ship inside the package)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

_VISIBILITY_FR = {"private": "Privé", "organisation": "Organisation", "network": "Réseau", "public": "Public"}
_METHOD_FR = {"rule": "Règle", "model": "Modèle", "similarity": "Similarité", "curator": "Curateur"}
_STATUS_FR = {
    "draft": "Brouillon",
    "in_review": "En relecture",
    "validated": "Validé",
    "archived": "Archivé",
}


def _visibility_fr(value: str | None) -> str:
    return _VISIBILITY_FR.get(value or "", value or "")


def _status_fr(value: str | None) -> str:
    return _STATUS_FR.get(value or "", value or "")


def _method_fr(value: str | None) -> str:
    return _METHOD_FR.get(value or "", value or "")


def _score_fr(value: float | None) -> str:
    return f"{float(value or 0):.2f}".replace(".", ",")


def _filesize(value: int | None) -> str:
    size = float(value or 0)
    for unit in ("o", "Ko", "Mo", "Go"):
        if size < 1024 or unit == "Go":
            return f"{size:.0f} {unit}" if unit == "o" else f"{size:.1f} {unit}".replace(".", ",")
        size /= 1024
    return f"{size:.1f} Go"


def _number_fr(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


templates.env.filters["visibility_fr"] = _visibility_fr
templates.env.filters["status_fr"] = _status_fr
templates.env.filters["method_fr"] = _method_fr
templates.env.filters["score_fr"] = _score_fr
templates.env.filters["filesize"] = _filesize
templates.env.filters["number_fr"] = _number_fr
