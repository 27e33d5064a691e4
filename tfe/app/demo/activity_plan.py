"""Who does what, when, in the demo's simulated history: a deterministic plan (a seed, no database).

The demo colleagues (``people.json``: six to eight per organisation, curators among them) join over the
first weeks (``join``: two in five on the first day, the others spread over the first 60 % of the period),
then come on weekdays (rarely at weekends) with a probability that grows week after week (adoption), at
working hours. A visit is a few searches (some, on a market the base does not cover, find nothing), reads
of what they found and some downloads; a colleague may create an alert on a first visit and a few drop it
later; curators now and then correct a machine classification of their organisation's documents.
``tfe.app.demo.activity`` plays the plan through the platform's use cases under a simulated clock.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfe.app.demo import DEMO_DIR

__all__ = [
    "ALERTS",
    "EMPTY_SEARCHES",
    "PEOPLE",
    "SEARCHES",
    "Person",
    "Plan",
    "Search",
    "Visit",
    "load_people",
    "make_plan",
]

PEOPLE: Path = DEMO_DIR / "people.json"


@dataclass(frozen=True)
class Person:
    org: str
    name: str
    email: str
    role: str
    title: str = ""


@dataclass(frozen=True)
class Search:
    q: str
    sector: tuple[str, ...] = ()
    country: tuple[str, ...] = ()


# what advisers look for in the demo base (its documents and watch: see corpus/manifest.json)
SEARCHES: tuple[Search, ...] = (
    Search("vins Allemagne"),
    Search("salon ProWein"),
    Search("vins biologiques", country=("DE",)),
    Search("produits laitiers Vietnam"),
    Search("agroalimentaire", country=("VN",)),
    Search("cosmétiques Japon"),
    Search("mission de prospection Tokyo"),
    Search("dispositifs médicaux"),
    Search("aéronautique Canada"),
    Search("sous-traitance aéronautique", country=("US",)),
    Search("énergies renouvelables Maroc"),
    Search("appel d'offres dessalement"),
    Search("eau et assainissement"),
    Search("construction durable Émirats"),
    Search("BTP Abidjan"),
    Search("fiche pays Brésil"),
    Search("machines agricoles Brésil"),
    Search("ferroviaire Inde"),
    Search("logiciels Royaume-Uni"),
    Search("devis salon à l'étranger"),
    Search("grille tarifaire prestations"),
    Search("V.I.E. temps partagé"),
    Search("assurance prospection"),
    Search("référence client Chine"),
    Search("mode française Chine"),
    Search("CES Las Vegas"),
    Search("accord de libre-échange Vietnam"),
    Search("marché du vin", sector=("11.02",)),
)

# searches on markets the demo base says nothing about: the share of searches without a result
EMPTY_SEARCHES: tuple[Search, ...] = (
    Search("salon agroalimentaire", country=("IS",)),
    Search("énergies renouvelables", country=("MN",)),
    Search("dispositifs médicaux", country=("PY",)),
    Search("cosmétiques", country=("NP",)),
)

# the alerts colleagues create (name, countries, sectors, frequency): the first three follow the demo
# watch's showcase stories (Vietnam, ProWein, Souss-Massa), so the digests have something to send
ALERTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("Veille Vietnam", ("VN",), (), "daily"),
    ("Vins et spiritueux Allemagne", ("DE",), ("11",), "daily"),
    ("Marchés publics Maroc", ("MA",), (), "instant"),
    ("Japon", ("JP",), (), "weekly"),
    ("Brésil énergie", ("BR",), ("35",), "weekly"),
)

_PRESENCE = {"reader": 0.3, "contributor": 0.4, "curator": 0.5, "admin": 0.3}


@dataclass(frozen=True)
class Visit:
    """One colleague's visit: searches, then reads (and downloads) among what they found."""

    at: dt.datetime
    email: str
    searches: tuple[Search, ...]
    reads: int
    download_share: float
    subscribe: int | None = None  # an index in ALERTS, on the colleague's first visit
    unsubscribe: bool = False
    correct: bool = False  # a curator corrects one machine classification of their organisation


@dataclass
class Plan:
    start: dt.date
    days: int
    joins: dict[str, dt.datetime] = field(default_factory=dict)  # email → when the account is created
    visits: list[Visit] = field(default_factory=list)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days)


def load_people(path: Path | None = None) -> list[Person]:
    """The demo colleagues (``people.json``): organisation slug, name, e-mail, role and job title."""
    data: list[dict[str, Any]] = json.loads((path or PEOPLE).read_text(encoding="utf-8"))
    return [Person(**entry) for entry in data]


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A working-hours moment of ``day`` (UTC, 07:00–17:00: 08:00–18:00 in Paris in winter)."""
    minutes = 7 * 60 + int(rng.triangular(0, 600, 180))
    midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
    return midnight + dt.timedelta(minutes=minutes, seconds=rng.randrange(60))


def make_plan(people: list[Person], *, weeks: int, seed: int, end: dt.date) -> Plan:
    """The plan of ``weeks`` weeks of activity ending the day before ``end`` (deterministic for ``seed``)."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    rng = random.Random(seed)
    days = 7 * weeks
    plan = Plan(start=end - dt.timedelta(days=days), days=days)
    for person in people:
        first = 0 if rng.random() < 0.4 else rng.randrange(0, max(1, int(days * 0.6)))
        plan.joins[person.email] = _at(plan.start + dt.timedelta(days=first), rng) - dt.timedelta(hours=1)
    alerts: dict[str, int] = {}  # email → the index of their alert in ALERTS, -1 once dropped
    for offset in range(days):
        day = plan.start + dt.timedelta(days=offset)
        week = offset // 7
        ramp = 0.55 + 0.45 * (week / max(1, weeks - 1))
        weekend = day.weekday() >= 5
        for person in people:
            joined = plan.joins[person.email]
            if day < joined.date():
                continue
            chance = _PRESENCE.get(person.role, 0.3) * ramp * (0.05 if weekend else 1.0)
            if rng.random() >= chance:
                continue
            at = max(_at(day, rng), joined + dt.timedelta(minutes=30))
            searches = tuple(
                rng.choice(EMPTY_SEARCHES) if rng.random() < 0.12 else rng.choice(SEARCHES)
                for _ in range(rng.choice((1, 1, 2, 2, 3)))
            )
            subscribe, unsubscribe = None, False
            state = alerts.get(person.email)
            if state is None and rng.random() < 0.45:
                subscribe = alerts[person.email] = rng.randrange(len(ALERTS))
            elif state is not None and state >= 0 and week >= 2 and rng.random() < 0.03:
                unsubscribe, alerts[person.email] = True, -1  # dropped, and not made again
            plan.visits.append(
                Visit(
                    at=at,
                    email=person.email,
                    searches=searches,
                    reads=rng.choice((0, 1, 1, 2, 3)),
                    download_share=0.3 if person.role != "reader" else 0.2,
                    subscribe=subscribe,
                    unsubscribe=unsubscribe,
                    correct=person.role == "curator" and rng.random() < 0.25,
                )
            )
    plan.visits.sort(key=lambda v: (v.at, v.email))
    return plan
