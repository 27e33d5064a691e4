"""The add/edit form of a catalogue source: its fields as typed, and what they ask of the catalogue.

``SourceForm`` holds the strings of the French form (intervals in minutes, hints and tags separated by
commas); ``spec`` turns them into a ``veille.source_rules.SourceSpec`` for ``add`` and ``preview``, and
``changes`` into the change set ``update`` takes (only what differs from the catalogued source). Format
errors (a number that is not one) are collected in French; the catalogue checks everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form

from tfe.app.web.pages.document_edit import split_names
from veille.models import SOURCE_KINDS
from veille.source_rules import SourceSpec
from veille.source_views import SourceView

__all__ = ["SELECTOR_TYPES", "FormDep", "Short", "SourceForm", "Text", "decimal_fr", "french"]

SELECTOR_TYPES = ("css", "xpath")
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=32)]
FIELDS_FR = {  # the service's field names, as the form labels them
    "min_interval_s": "Intervalle minimal",
    "max_interval_s": "Intervalle maximal",
    "auto_accept_threshold": "Seuil d'acceptation automatique",
    "max_articles": "Nombre maximal d'articles",
    "selector_type": "Type de sélecteur",
    "links": "Sélecteur des liens",
    "title": "Sélecteur du titre",
    "body": "Sélecteur du texte",
    "date": "Sélecteur de la date",
    "selector": "Sélecteur de la zone",
}


def decimal_fr(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".").replace(".", ",") or "0"


def french(message: str) -> str:
    """The service's message with its field names as the form labels them."""
    for name, label in FIELDS_FR.items():
        if message.startswith(name + " "):
            return label + message[len(name) :]
    return message


# the form ---------------------------------------------------------------------------------------------


@dataclass
class SourceForm:
    """The add/edit form's fields as typed (strings; intervals in minutes)."""

    url: str = ""
    kind: str = "feed"
    title: str = ""
    visibility: str = "network"
    language: str = ""
    sector_hints: str = ""
    country_hints: str = ""
    tags: str = ""
    min_interval: str = ""
    max_interval: str = ""
    full_text: bool = False
    auto_accept_threshold: str = ""
    selector_type: str = "css"
    links: str = ""
    title_selector: str = ""
    body_selector: str = ""
    date_selector: str = ""
    max_articles: str = ""
    region: str = ""

    @classmethod
    def of(cls, view: SourceView) -> SourceForm:
        """The form prefilled with a catalogued source."""
        config = view.config
        return cls(
            url=view.url,
            kind=view.kind,
            title=view.title,
            visibility=view.visibility,
            language=view.language or "",
            sector_hints=", ".join(view.sector_hints),
            country_hints=", ".join(view.country_hints),
            tags=", ".join(view.tags),
            min_interval=str(round(view.min_interval_s / 60)),
            max_interval=str(round(view.max_interval_s / 60)),
            full_text=view.full_text,
            auto_accept_threshold=decimal_fr(view.auto_accept_threshold, 3)
            if view.auto_accept_threshold is not None
            else "",
            selector_type=str(config.get("selector_type") or "css"),
            links=str(config.get("links") or ""),
            title_selector=str(config.get("title") or ""),
            body_selector=str(config.get("body") or ""),
            date_selector=str(config.get("date") or ""),
            max_articles=str(config.get("max_articles") or ""),
            region=str(config.get("selector") or ""),
        )

    def config(self, errors: list[str]) -> dict[str, Any]:
        """The kind's configuration from the selector fields (checked by the service)."""
        selector_type = self.selector_type if self.selector_type in SELECTOR_TYPES else "css"
        if self.kind == "page":
            config: dict[str, Any] = {"selector_type": selector_type, "links": self.links.strip()}
            for key, value in (
                ("title", self.title_selector),
                ("body", self.body_selector),
                ("date", self.date_selector),
            ):
                if value.strip():
                    config[key] = value.strip()
            articles = _integer(self.max_articles, "Nombre maximal d'articles", errors)
            if articles is not None:
                config["max_articles"] = articles
            return config
        if self.kind == "watch":
            return {"selector_type": selector_type, "selector": self.region.strip()}
        return {}

    def spec(self, errors: list[str]) -> SourceSpec:
        """The ``SourceSpec`` this form asks for; page-level format errors go to ``errors``."""
        if self.kind not in SOURCE_KINDS:
            errors.append("Type de source inconnu : choisissez Flux, Page ou Surveillance.")
        low = _minutes(self.min_interval, "Intervalle minimal", errors)
        high = _minutes(self.max_interval, "Intervalle maximal", errors)
        return SourceSpec(
            url=self.url.strip(),
            kind=self.kind,
            title=self.title,
            visibility=self.visibility,
            language=self.language.strip() or None,
            sector_hints=list(split_names(self.sector_hints)),
            country_hints=list(split_names(self.country_hints)),
            tags=list(split_names(self.tags)),
            min_interval_s=low,
            max_interval_s=high,
            full_text=self.full_text,
            auto_accept_threshold=_threshold(self.auto_accept_threshold, errors),
            config=self.config(errors) if self.kind in SOURCE_KINDS else {},
        )

    def changes(self, current: SourceView, errors: list[str]) -> dict[str, Any]:
        """What differs from the catalogued source (the service's ``update`` field names)."""
        spec = self.spec(errors)
        before = SourceForm.of(current)
        changes: dict[str, Any] = {}
        for name in ("url", "kind", "title", "visibility", "language", "full_text", "auto_accept_threshold"):
            if getattr(self, name) != getattr(before, name):
                changes[name] = getattr(spec, name)
        for name in ("sector_hints", "country_hints", "tags"):
            if getattr(spec, name) != list(split_names(getattr(before, name))):
                changes[name] = getattr(spec, name)
        for name in ("min_interval", "max_interval"):
            value = getattr(spec, name + "_s")
            if getattr(self, name).strip() != getattr(before, name) and value is not None:
                changes[name + "_s"] = value
        if spec.kind in SOURCE_KINDS and (spec.kind != current.kind or spec.config != before.config([])):
            changes["config"] = spec.config
        return changes


def _integer(value: str, label: str, errors: list[str]) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        errors.append(f"« {label} » : un nombre entier est attendu.")
        return None


def _minutes(value: str, label: str, errors: list[str]) -> int | None:
    minutes = _integer(value, label, errors)
    if minutes is None:
        return None
    if not 1 <= minutes <= 7 * 24 * 60:
        errors.append(f"« {label} » : entre 1 minute et 7 jours (10080 minutes).")
        return None
    return minutes * 60


def _threshold(value: str, errors: list[str]) -> float | None:
    if not value.strip():
        return None
    try:
        number = float(value.strip().replace(",", "."))
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:
        errors.append(
            "« Seuil d'acceptation automatique » : un nombre entre 0 et 1 (par ex. 0,8) est attendu."
        )
        return None
    return number


def _form_fields(
    url: Text = "",
    kind: Short = "feed",
    title: Annotated[str, Form(max_length=500)] = "",
    visibility: Short = "network",
    language: Short = "",
    sector_hints: Text = "",
    country_hints: Text = "",
    tags: Text = "",
    min_interval: Short = "",
    max_interval: Short = "",
    full_text: Short = "",
    auto_accept_threshold: Short = "",
    selector_type: Short = "css",
    links: Text = "",
    title_selector: Text = "",
    body_selector: Text = "",
    date_selector: Text = "",
    max_articles: Short = "",
    region: Text = "",
) -> SourceForm:
    return SourceForm(
        url=url,
        kind=kind,
        title=title,
        visibility=visibility,
        language=language,
        sector_hints=sector_hints,
        country_hints=country_hints,
        tags=tags,
        min_interval=min_interval,
        max_interval=max_interval,
        full_text=bool(full_text),
        auto_accept_threshold=auto_accept_threshold,
        selector_type=selector_type,
        links=links,
        title_selector=title_selector,
        body_selector=body_selector,
        date_selector=date_selector,
        max_articles=max_articles,
        region=region,
    )


FormDep = Annotated[SourceForm, Depends(_form_fields)]
