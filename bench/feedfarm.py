"""A farm of synthetic RSS feeds served by one asyncio HTTP server, for the polling benchmark.

Run as a child process by ``bench/poll.py`` (``python bench/feedfarm.py --feeds N --t0 T ...``): it listens
on the loopback addresses 127.0.0.2 … 127.0.0.(1+hosts) on one port, prints ``PORT <n>`` once ready, and
serves ``/f/<i>`` until killed. Its CPU is not the worker's. Every feed's behaviour is a pure function
of its number and the seed (``profile``), so the benchmark registers matching sources and pre-seeds
what a previous poll would have left (validators, old entries) without asking the server.

Behaviours: validators ETag, Last-Modified or neither (a conditional request answers 304 when they match);
a share of feeds publishes one entry every ``period_s`` from ``t0`` on (synthetic French news titles,
each carrying a unique word ``zx<i>q<v>``); some answer 429 with Retry-After, some are slow (1–3 s),
some fail (500, connection dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import random
import sys
import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

__all__ = ["OLD_ENTRIES", "Profile", "entry_guid", "host_of", "profile", "unique_word", "validators"]

OLD_ENTRIES = 3  # entries every feed carries from before the run (pre-seeded as already stored)
RECENT_KEPT = 5  # a publishing feed lists its last entries only
BASE_DATE = "Tue, 01 Sep 2026 08:00:00 GMT"

SUBJECTS = [
    "Les exportateurs de vin",
    "La filière aéronautique",
    "Les PME de la cosmétique",
    "Le secteur agroalimentaire",
    "Les start-up de la French Tech",
    "Les industriels du luxe",
    "La filière nucléaire",
    "Les éleveurs bretons",
    "Les fabricants de machines-outils",
    "Les acteurs de la santé numérique",
    "Les producteurs de fromage",
    "La filière ferroviaire",
    "Les équipementiers automobiles",
    "Les distributeurs de cognac",
]
VERBS = [
    "gagnent des parts de marché",
    "signent un contrat majeur",
    "préparent une mission de prospection",
    "font face à de nouveaux droits de douane",
    "ouvrent une filiale",
    "exposent au salon international",
    "profitent d'un accord de libre-échange",
    "lèvent des fonds",
    "recrutent des agents commerciaux",
    "obtiennent une certification",
    "répondent à un appel d'offres public",
]
PLACES = [
    "en Allemagne",
    "au Japon",
    "aux États-Unis",
    "au Maroc",
    "au Vietnam",
    "au Brésil",
    "en Inde",
    "au Canada",
    "en Norvège",
    "à Singapour",
    "aux Émirats arabes unis",
    "en Afrique du Sud",
    "en Corée du Sud",
    "au Mexique",
]
DETAILS = [
    "Les volumes progressent nettement sur un an selon les douanes.",
    "Les autorités locales simplifient les procédures d'importation.",
    "Un salon professionnel réunira acheteurs et distributeurs au printemps.",
    "La demande des consommateurs soutient la croissance du marché.",
    "Le conseiller export recommande de sécuriser les paiements.",
    "Une nouvelle réglementation sur l'étiquetage entre en vigueur.",
]


@dataclass(frozen=True)
class Profile:
    """What feed ``i`` does: its validators, whether it publishes, and how it misbehaves."""

    index: int
    validator: str  # etag, last_modified, none
    behaviour: str  # static, publishing, throttled, slow, error, drop
    period_s: float = 0.0  # publishing: one entry every period
    phase_s: float = 0.0
    delay_s: float = 0.0  # slow: seconds before answering


def profile(i: int, seed: int, new_share: float, period_s: float) -> Profile:
    rng = random.Random(seed * 1_000_003 + i)
    v = rng.random()
    validator = "etag" if v < 0.4 else "last_modified" if v < 0.8 else "none"
    b = rng.random()
    cuts = [("publishing", new_share), ("throttled", 0.02), ("slow", 0.03), ("error", 0.015), ("drop", 0.015)]
    behaviour, acc = "static", 0.0
    for name, share in cuts:
        acc += share
        if b < acc:
            behaviour = name
            break
    period = period_s * rng.uniform(0.5, 1.5) if behaviour == "publishing" else 0.0
    return Profile(
        index=i,
        validator=validator,
        behaviour=behaviour,
        period_s=period,
        phase_s=rng.uniform(0, period) if period else 0.0,
        delay_s=rng.uniform(1.0, 3.0) if behaviour == "slow" else 0.0,
    )


def host_of(i: int, hosts: int) -> str:
    return f"127.0.0.{2 + i % hosts}"


def version(p: Profile, t0: float, now: float) -> int:
    """How many entries a publishing feed has published since ``t0``."""
    if p.behaviour != "publishing" or now < t0:
        return 0
    return int((now - t0 + p.phase_s) // p.period_s)


def validators(p: Profile, t0: float, v: int) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) of feed ``p`` at version ``v``."""
    if p.validator == "etag":
        return f'"f{p.index}-v{v}"', None
    if p.validator == "last_modified":
        when = BASE_DATE if v == 0 else email.utils.formatdate(t0 + v * p.period_s - p.phase_s, usegmt=True)
        return None, when
    return None, None


def entry_guid(i: int, v: int) -> str:
    return f"farm-{i}-v{v}"


def old_guid(i: int, k: int) -> str:
    return f"farm-{i}-old{k}"


def unique_word(i: int, v: int) -> str:
    return f"zx{i}q{v}"


def _title(i: int, v: int) -> tuple[str, str]:
    rng = random.Random(i * 7919 + v)
    title = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(PLACES)} ({unique_word(i, v)})"
    return title, f"{rng.choice(DETAILS)} {rng.choice(DETAILS)} Référence {unique_word(i, v)}."


def feed_body(p: Profile, t0: float, v: int) -> bytes:
    items = []
    for k in range(max(1, v - RECENT_KEPT + 1), v + 1):
        title, text = _title(p.index, k)
        when = email.utils.formatdate(t0 + k * p.period_s - p.phase_s, usegmt=True)
        items.append((entry_guid(p.index, k), title, text, when))
    for k in range(OLD_ENTRIES):
        title, text = _title(p.index, -1 - k)
        items.append((old_guid(p.index, k), title, text, BASE_DATE))
    xml = "".join(
        f"<item><guid>{g}</guid><title>{escape(t)}</title><link>https://actu.example.org/{g}</link>"
        f"<description>{escape(d)}</description><pubDate>{w}</pubDate></item>"
        for g, t, d, w in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Flux {p.index}</title>'
        f"<link>https://actu.example.org/</link><description>Veille synthétique</description>{xml}"
        "</channel></rss>"
    ).encode()


class Farm:
    def __init__(self, feeds: int, seed: int, new_share: float, period_s: float, t0: float) -> None:
        self.profiles = [profile(i, seed, new_share, period_s) for i in range(feeds)]
        self.t0 = t0
        self._cache: dict[tuple[int, int], bytes] = {}

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, float, bool]:
        """(status, headers, body, delay, drop) for one GET."""
        try:
            i = int(path.rsplit("/", 1)[-1])
            p = self.profiles[i]
        except (ValueError, IndexError):
            return 404, {}, b"", 0.0, False
        if p.behaviour == "throttled":
            return 429, {"Retry-After": "120"}, b"", 0.0, False
        if p.behaviour == "error":
            return 500, {}, b"erreur interne", 0.0, False
        if p.behaviour == "drop":
            return 0, {}, b"", 0.0, True
        v = version(p, self.t0, time.time())
        etag, last_modified = validators(p, self.t0, v)
        if (etag and headers.get("if-none-match") == etag) or (
            last_modified and headers.get("if-modified-since") == last_modified
        ):
            return 304, {}, b"", p.delay_s, False
        body = self._cache.get((i, v))
        if body is None:
            body = self._cache[(i, v)] = feed_body(p, self.t0, v)
        out = {"Content-Type": "application/rss+xml; charset=utf-8"}
        if etag:
            out["ETag"] = etag
        if last_modified:
            out["Last-Modified"] = last_modified
        return 200, out, body, p.delay_s, False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                status, extra, body, delay, drop = self.answer(parts[1] if len(parts) > 1 else "/", headers)
                if delay:
                    await asyncio.sleep(delay)
                if drop:
                    break
                reason = {200: "OK", 304: "Not Modified", 404: "Not Found", 429: "Too Many Requests"}.get(
                    status, "Internal Server Error"
                )
                extra["Content-Length"] = str(len(body))
                head_out = f"HTTP/1.1 {status} {reason}\r\n" + "".join(
                    f"{k}: {v}\r\n" for k, v in extra.items()
                )
                writer.write(head_out.encode("latin-1") + b"\r\n" + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def _serve(args: argparse.Namespace) -> None:
    farm = Farm(args.feeds, args.seed, args.new_share, args.period, args.t0)
    hosts = [host_of(i, args.hosts) for i in range(args.hosts)]
    first = await asyncio.start_server(farm.handle, hosts[0], args.port, backlog=1024)
    port = first.sockets[0].getsockname()[1]
    others = await asyncio.start_server(farm.handle, hosts[1:], port, backlog=1024) if hosts[1:] else None
    print(f"PORT {port}", flush=True)
    async with first:
        if others is not None:
            async with others:
                await asyncio.gather(first.serve_forever(), others.serve_forever())
        else:
            await first.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--new-share", type=float, default=0.05)
    parser.add_argument("--period", type=float, default=300.0)
    parser.add_argument("--t0", type=float, default=time.time())
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
