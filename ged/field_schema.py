"""The fields each document type carries, defined as data (``ged/data/doctype_fields.json``).

The file maps a document-type notation (``quote_template``) to its fields; each field has a ``name``
(stored key), a French ``label``, a ``type`` (``text``, ``integer``, ``decimal``, ``date``, ``boolean``,
``choice``, ``concept``), ``required``, ``multiple`` (a list of values), and per type: ``choices``
(allowed values with French labels and optional text ``cues``), ``scheme`` (``naf``, ``country``,
``region``: values are concept ids checked against the referential in force), ``min``/``max``,
``max_length``, ``not_below`` (a numeric field this one may not be under) and date ``cues`` (words
before a date in the text, for proposals). The file is itself validated by pydantic when this module is
imported: a broken schema file stops the service at start (``ConfigurationError``) instead of half-working.

For each type a pydantic model is built (``pydantic.create_model``); ``TypeSchema.validate`` runs it and
turns every error into a French message for its field (``FieldsError``: one ``{"field", "message"}`` per
problem). Values are stored in JSON form: dates ISO, decimals as strings, concepts as ids.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from taxonomy.referential import Referential
from tfe.core.errors import ConfigurationError, ValidationError

__all__ = [
    "DEFAULT_PATH",
    "FILTERABLE_TYPES",
    "FieldSpec",
    "FieldsError",
    "TypeSchema",
    "carry_over",
    "field_filters",
    "load_schemas",
    "schema_for",
    "schemas",
]

DEFAULT_PATH = Path(__file__).parent / "data" / "doctype_fields.json"
FieldType = Literal["text", "integer", "decimal", "date", "boolean", "choice", "concept"]
FILTERABLE_TYPES = frozenset({"choice", "boolean", "concept", "integer"})
_NAME = r"^[a-z][a-z0-9_]{0,39}$"
_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")
_FR_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_TRUE, _FALSE = {"oui", "true", "1", "on", "yes", "vrai"}, {"non", "false", "0", "off", "no", "faux"}
_SCHEME_FR = {"naf": "les secteurs (NAF)", "country": "les pays", "region": "les zones"}
_CUSTOM = frozenset({"not_allowed", "unknown_concept", "no_referential", "impossible_date"})
_FRENCH = {
    "missing": "ce champ est obligatoire",
    "extra_forbidden": "champ inconnu pour ce type de document",
    "int_parsing": "un nombre entier est attendu",
    "int_from_float": "un nombre entier est attendu",
    "int_type": "un nombre entier est attendu",
    "decimal_parsing": "un nombre est attendu",
    "decimal_type": "un nombre est attendu",
    "decimal_max_places": "{decimal_places} décimales au plus",
    "decimal_max_digits": "{max_digits} chiffres au plus",
    "finite_number": "un nombre fini est attendu",
    "date_parsing": "une date est attendue (AAAA-MM-JJ ou JJ/MM/AAAA)",
    "date_from_datetime_parsing": "une date est attendue (AAAA-MM-JJ ou JJ/MM/AAAA)",
    "date_from_datetime_inexact": "une date sans heure est attendue",
    "date_type": "une date est attendue (AAAA-MM-JJ ou JJ/MM/AAAA)",
    "bool_parsing": "oui ou non est attendu",
    "bool_type": "oui ou non est attendu",
    "string_type": "un texte est attendu",
    "string_too_long": "{max_length} caractères au plus",
    "too_long": "{max_length} caractères au plus",
    "greater_than_equal": "au moins {ge}",
    "less_than_equal": "au plus {le}",
    "list_type": "une liste de valeurs est attendue",
    "model_type": "un objet {champ: valeur} est attendu",
    "dict_type": "un objet {champ: valeur} est attendu",
}


class FieldsError(ValidationError):
    """Invalid field values: ``errors`` holds one ``{"field", "message"}`` (French) per problem."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        listed = " ; ".join(f"{e['field']} : {e['message']}" for e in errors)
        super().__init__(f"valeurs de champs non valides : {listed}")


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    label: str = Field(min_length=1, max_length=120)
    cues: tuple[str, ...] = ()


class FieldSpec(BaseModel):
    """One field of a document type, as the schema file states it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    label: str = Field(min_length=1, max_length=120)
    type: FieldType
    required: bool = False
    multiple: bool = False
    choices: tuple[Choice, ...] = ()
    scheme: Literal["naf", "country", "region"] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int = Field(500, ge=1, le=5000)
    not_below: str | None = None
    cues: tuple[str, ...] = ()
    filterable: bool | None = None  # default: choice, boolean, concept and integer fields

    @pydantic.model_validator(mode="after")
    def _coherent(self) -> FieldSpec:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"{self.name}: choices are required for, and only for, choice fields")
        if len({c.value for c in self.choices}) != len(self.choices):
            raise ValueError(f"{self.name}: duplicate choice values")
        if (self.type == "concept") != (self.scheme is not None):
            raise ValueError(f"{self.name}: scheme is required for, and only for, concept fields")
        numeric = self.type in ("integer", "decimal")
        if not numeric and (self.min is not None or self.max is not None or self.not_below):
            raise ValueError(f"{self.name}: min, max and not_below are for integer and decimal fields")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.name}: min is above max")
        if self.cues and self.type != "date":
            raise ValueError(f"{self.name}: field cues are for date fields (choices carry their own)")
        return self

    @property
    def is_filterable(self) -> bool:
        return self.type in FILTERABLE_TYPES if self.filterable is None else self.filterable

    def choice_label(self, value: str) -> str:
        return next((c.label for c in self.choices if c.value == value), value)

    def display(self, value: Any, referential: Referential | None = None) -> str:
        """A stored value as French text (labels of choices and concepts, dates as JJ/MM/AAAA)."""
        if isinstance(value, list):
            return ", ".join(self.display(v, referential) for v in value)
        if value is None:
            return "—"
        if self.type == "boolean":
            return "Oui" if value else "Non"
        if self.type == "choice":
            return self.choice_label(str(value))
        if self.type == "concept":
            concept = referential.get(str(value)) if referential is not None else None
            return concept.label("fr") if concept is not None else str(value)
        if self.type == "date":
            try:
                return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
            except ValueError:
                return str(value)
        if self.type == "decimal":
            return str(value).replace(".", ",")
        return str(value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "multiple": self.multiple,
            "choices": [{"value": c.value, "label": c.label} for c in self.choices],
            "scheme": self.scheme,
            "min": float(self.min) if self.min is not None else None,
            "max": float(self.max) if self.max is not None else None,
            "filterable": self.is_filterable,
        }


class TypeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: tuple[FieldSpec, ...] = Field(min_length=1)

    @pydantic.model_validator(mode="after")
    def _names(self) -> TypeSpec:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("duplicate field names")
        by_name = {f.name: f for f in self.fields}
        for spec in self.fields:
            if spec.not_below and (
                spec.not_below not in by_name or by_name[spec.not_below].type != spec.type or spec.multiple
            ):
                raise ValueError(f"{spec.name}: not_below must name a single field of the same type")
        return self


class SchemaFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1]
    types: dict[Annotated[str, Field(pattern=_NAME)], TypeSpec]


# ------------------------------------------------------------------ per-field validators
def _blank_to_none(value: Any) -> Any:
    return value.strip() or None if isinstance(value, str) else value


def _french_date(value: Any) -> Any:
    match = _FR_DATE.match(value) if isinstance(value, str) else None
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise PydanticCustomError(
                "impossible_date", "date impossible : {value}", {"value": value}
            ) from None
    return value


def _french_bool(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        return True if word in _TRUE else False if word in _FALSE else value
    return value


def _decimal_comma(value: Any) -> Any:
    return value.replace("\u202f", "").replace(" ", "").replace(",", ".") if isinstance(value, str) else value


def _allowed(spec: FieldSpec) -> AfterValidator:
    allowed = [c.value for c in spec.choices]

    def check(value: str) -> str:
        if value not in allowed:
            shown = ", ".join(allowed[:8]) + (", …" if len(allowed) > 8 else "")
            raise PydanticCustomError(
                "not_allowed",
                "valeur non autorisée : {value} (autorisées : {allowed})",
                {"value": value, "allowed": shown},
            )
        return value

    return AfterValidator(check)


def _in_scheme(spec: FieldSpec) -> AfterValidator:
    scheme = str(spec.scheme)

    def check(value: str, info: ValidationInfo) -> str:
        referential = (info.context or {}).get("referential")
        if not isinstance(referential, Referential):
            raise PydanticCustomError("no_referential", "référentiel indisponible")
        found = referential.resolve(value, scheme)
        if found is None or not found.startswith(f"{scheme}:"):
            raise PydanticCustomError(
                "unknown_concept",
                "inconnu parmi {scheme} : {value}",
                {"scheme": _SCHEME_FR[scheme], "value": value},
            )
        return found

    return AfterValidator(check)


def _item_type(spec: FieldSpec) -> Any:
    """The annotated Python type of one value of ``spec``."""
    if spec.type == "text":
        return Annotated[str, BeforeValidator(_blank_to_none), Field(max_length=spec.max_length)]
    if spec.type == "integer":
        return Annotated[
            int,
            Field(
                ge=int(spec.min) if spec.min is not None else None,
                le=int(spec.max) if spec.max is not None else None,
            ),
        ]
    if spec.type == "decimal":
        return Annotated[
            Decimal,
            BeforeValidator(_decimal_comma),
            Field(ge=spec.min, le=spec.max, max_digits=18, decimal_places=4, allow_inf_nan=False),
        ]
    if spec.type == "date":
        return Annotated[dt.date, BeforeValidator(_french_date)]
    if spec.type == "boolean":
        return Annotated[bool, BeforeValidator(_french_bool)]
    if spec.type == "choice":
        return Annotated[str, BeforeValidator(_blank_to_none), _allowed(spec)]
    return Annotated[str, BeforeValidator(_blank_to_none), Field(max_length=200), _in_scheme(spec)]


def _dedupe(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _model(notation: str, specs: tuple[FieldSpec, ...], *, partial: bool) -> type[BaseModel]:
    definitions: dict[str, Any] = {}
    for spec in specs:
        kind = _item_type(spec)
        if spec.multiple:
            kind = Annotated[list[kind], AfterValidator(_dedupe)]  # type: ignore[valid-type]
        required = spec.required and not partial
        definitions[spec.name] = (kind, ...) if required else (kind | None, None)
    return pydantic.create_model(  # type: ignore[call-overload, no-any-return]
        f"Fields_{notation}{'_partial' if partial else ''}",
        __config__=ConfigDict(extra="forbid"),
        **definitions,
    )


def _french(error: Any) -> str:
    kind = str(error.get("type"))
    if kind in _CUSTOM:
        return str(error.get("msg"))
    if kind not in _FRENCH:
        return "valeur non valide"
    context = {k: _DECIMAL_REPR.sub(r"\1", str(v)) for k, v in (error.get("ctx") or {}).items()}
    try:
        return _FRENCH[kind].format(**context)
    except (KeyError, IndexError):
        return "valeur non valide"


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """Blank values (``None``, ``""``, ``[]``) count as absent: a field is cleared by sending one."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list):
            value = [v for v in value if v is not None and not (isinstance(v, str) and not v.strip())]
        if value is not None and value != [] and not (isinstance(value, str) and not value.strip()):
            out[key] = value
    return out


@dataclass(frozen=True)
class TypeSchema:
    """The fields of one document type and the pydantic models that validate their values."""

    notation: str
    fields: tuple[FieldSpec, ...]
    model: type[BaseModel] = field(repr=False)
    partial_model: type[BaseModel] = field(repr=False)

    @classmethod
    def build(cls, notation: str, specs: tuple[FieldSpec, ...]) -> TypeSchema:
        return cls(
            notation, specs, _model(notation, specs, partial=False), _model(notation, specs, partial=True)
        )

    @property
    def concept_id(self) -> str:
        return f"doctype:{self.notation}"

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def validate(self, values: Any, referential: Referential, *, partial: bool = False) -> dict[str, Any]:
        """``values`` checked and normalised (JSON form, blanks dropped); ``FieldsError`` otherwise.

        ``partial``: required fields may be missing (accepting a proposal, carrying values over a type
        change); a full save (the form, ``PUT``) needs every required field.
        """
        if not isinstance(values, dict):
            raise FieldsError([{"field": "", "message": "un objet {champ: valeur} est attendu"}])
        model = self.partial_model if partial else self.model
        try:
            parsed = model.model_validate(_present(values), context={"referential": referential})
        except pydantic.ValidationError as exc:
            errors = [
                {"field": str(err["loc"][0]) if err["loc"] else "", "message": _french(err)}
                for err in exc.errors(include_url=False)
            ]
            raise FieldsError(errors) from None
        clean = parsed.model_dump(mode="json", exclude_none=True)
        errors = []
        for spec in self.fields:
            low = clean.get(spec.not_below or "")
            if (
                spec.not_below
                and low is not None
                and spec.name in clean
                and Decimal(str(clean[spec.name])) < Decimal(str(low))
            ):
                other = self.field(spec.not_below)
                floor = other.label if other else spec.not_below
                errors.append(
                    {
                        "field": spec.name,
                        "message": f"doit être au moins égal à « {floor} »",
                    }
                )
        if errors:
            raise FieldsError(errors)
        return {k: v for k, v in clean.items() if v != []}

    def missing(self, values: dict[str, Any]) -> list[str]:
        """The required fields without a value."""
        return [f.name for f in self.fields if f.required and values.get(f.name) in (None, "", [])]

    def index_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """The filterable values as search keywords (``"EUR"``, ``"true"``, ``"2024"``, concept ids)."""
        out: dict[str, Any] = {}
        for spec in self.fields:
            value = values.get(spec.name)
            if not spec.is_filterable or value in (None, "", []):
                continue
            items = value if isinstance(value, list) else [value]
            words = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in items]
            out[spec.name] = words if spec.multiple else words[0]
        return out

    def as_dict(self, label: str | None = None) -> dict[str, Any]:
        return {
            "id": self.concept_id,
            "notation": self.notation,
            "label": label or self.notation,
            "fields": [f.as_dict() for f in self.fields],
        }


def load_schemas(path: Path = DEFAULT_PATH) -> dict[str, TypeSchema]:
    """Every type's schema from ``path``; ``ConfigurationError`` naming the problem if the file is broken."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        parsed = SchemaFile.model_validate(raw)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read the document-type field schemas {path}: {exc}") from exc
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ConfigurationError(f"invalid document-type field schemas {path}: {problems}") from exc
    return {notation: TypeSchema.build(notation, spec.fields) for notation, spec in parsed.types.items()}


_SCHEMAS = load_schemas()  # at import: a broken schema file stops the service at start


def notation_of(doc_type: str | None) -> str:
    """``doctype:quote_template`` or ``quote_template`` -> ``quote_template`` (``""`` for none)."""
    value = (doc_type or "").strip()
    return value.split(":", 1)[1] if value.startswith("doctype:") else value


def schema_for(doc_type: str | None) -> TypeSchema:
    """The schema of a type (concept id or notation); a type without fields gets an empty schema."""
    notation = notation_of(doc_type)
    return _SCHEMAS.get(notation) or TypeSchema.build(notation or "none", ())


def schemas() -> list[TypeSchema]:
    """Every type that has fields, by notation."""
    return [_SCHEMAS[n] for n in sorted(_SCHEMAS)]


def carry_over(
    new_type: str | None, values: dict[str, Any], referential: Referential
) -> tuple[dict[str, Any], list[str]]:
    """On a type change: the values kept (same name, valid in the new type) and the names dropped."""
    schema = schema_for(new_type)
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in (values or {}).items():
        if schema.field(name) is None:
            dropped.append(name)
            continue
        try:
            kept.update(schema.validate({name: value}, referential, partial=True))
        except FieldsError:
            dropped.append(name)
    return kept, sorted(dropped)


def field_filters(
    pairs: list[tuple[str, str]], referential: Referential, types: tuple[str, ...] = ()
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Search filters on typed fields (``field.<name>=<value>`` pairs) as indexed keywords.

    The field must be filterable in one of ``types`` (notations or concept ids; every type when none is
    given); values are normalised as they are indexed: concept names or codes to ids (``DE`` ->
    ``country:DE``), ``oui``/``true`` to ``"true"``, integers to their digits. ``ValidationError`` names
    an unknown field or value.
    """
    wanted: dict[str, list[str]] = {}
    for key, raw in pairs:
        name = key[len("field.") :] if key.startswith("field.") else key
        value = raw.strip()
        if value:
            wanted.setdefault(name, []).append(value)
    pool = [schema_for(t) for t in types] if types else schemas()
    out: list[tuple[str, tuple[str, ...]]] = []
    for name, values in wanted.items():
        specs = [f for s in pool if (f := s.field(name)) is not None and f.is_filterable]
        if not specs:
            raise ValidationError(f"no filterable document field {name!r}")
        words: list[str] = []
        for value in values:
            found = [w for spec in specs if (w := _keyword(spec, value, referential)) is not None]
            if not found:
                raise ValidationError(f"invalid value {value[:64]!r} for document field {name!r}")
            words.extend(found)
        out.append((name, tuple(dict.fromkeys(words))))
    return tuple(out)


def _keyword(spec: FieldSpec, value: str, referential: Referential) -> str | None:
    """``value`` as ``spec`` indexes it, or ``None`` when it is not a valid value of ``spec``."""
    if spec.type == "concept":
        found = referential.resolve(value, str(spec.scheme))
        return found if found is not None and found.startswith(f"{spec.scheme}:") else None
    if spec.type == "boolean":
        parsed = _french_bool(value)
        return ("true" if parsed else "false") if isinstance(parsed, bool) else None
    if spec.type == "integer":
        return str(int(value)) if re.fullmatch(r"-?\d{1,12}", value) else None
    if spec.type == "choice":
        return value if any(c.value == value for c in spec.choices) else None
    return value
