"""The authorisation matrix: every route of ``/openapi.json`` × actor × organisation → the expected answer.

One ``Rule`` per route (``MATRIX``), written with the helpers below; ``Rule.expect(actor, org)`` gives the
status class an actor gets:

- actors: ``anonymous`` (no credentials) and the roles ``reader``, ``contributor``, ``curator``,
  ``admin`` (an administrator of an ordinary organisation, not of the national agency);
- organisations: ``own`` (the object the route addresses belongs to the actor's organisation) and
  ``other`` (an actor of another organisation addresses that same object); anonymous has none;
- outcomes: ``OK`` (2xx), ``401``, ``403``, ``404``.

The rules every helper follows:

1. Anonymous callers get 401 everywhere but on public routes.
2. A route that addresses an object (``scoped``) answers 404 to every actor outside the object's scope,
   whatever their role: the existence of an out-of-scope object never leaks (404, not 403).
3. 403 is kept for an actor who sees the object (or asks for no object) but whose role may not act:
   a reader editing their organisation's document, a contributor opening the curators' queue.
4. Where the role is checked before any object is looked up (``role_first``: curation, erasure), the
   403 is answered in both organisations; it says nothing about the object either.

``tests/web/test_authz_matrix.py`` walks ``/openapi.json`` of the real app and sends every request of the
matrix with real objects; ``scripts/authz_table.py`` prints the table of ``docs/security.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ACTORS",
    "ADMIN",
    "CONTRIBUTOR_PLUS",
    "CURATOR_PLUS",
    "END",
    "MATRIX",
    "OK",
    "ORGS",
    "ROLES",
    "START",
    "Rule",
    "admin_only",
    "check_routes",
    "docs_section",
    "manage_source",
    "markdown_table",
    "mine",
    "public",
    "read",
    "read_source",
    "replace_docs_section",
    "role",
    "signed_in",
    "write",
]

OK = 200  # any 2xx
ROLES = ("reader", "contributor", "curator", "admin")
ACTORS = ("anonymous", *ROLES)
ORGS = ("own", "other")
READERS = frozenset(ROLES)
CONTRIBUTOR_PLUS = frozenset({"contributor", "curator", "admin"})
CURATOR_PLUS = frozenset({"curator", "admin"})
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Rule:
    """Who may call one route, and what the others get.

    ``allowed``: the roles that succeed (on an object of their own organisation when ``scoped``);
    ``public``: anonymous callers succeed too; ``denied``: what an actor of the object's organisation
    outside ``allowed`` gets (403, or 404 where the object is hidden from them, e.g. the trash);
    ``scoped``: the route addresses one organisation's object (other organisation → 404, rule 2);
    ``role_first``: roles outside ``allowed`` get ``denied`` in the other organisation too (rule 4);
    ``other``: roles that succeed on another organisation's object (documented exceptions);
    ``note``: why, in a few words (shown in the docs' table).
    """

    allowed: frozenset[str]
    public: bool = False
    denied: int = 403
    scoped: bool = False
    role_first: bool = False
    other: frozenset[str] = frozenset()
    note: str = ""

    def expect(self, actor: str, org: str = "own") -> int:
        """The status class ``actor`` gets on this route for an object of ``org`` (``own`` or ``other``)."""
        if actor not in ACTORS or org not in ORGS:
            raise ValueError(f"unknown actor {actor!r} or organisation {org!r}")
        if actor == "anonymous":
            return OK if self.public else 401
        if not self.scoped or org == "own":
            return OK if actor in self.allowed else self.denied
        if actor in self.other:
            return OK
        if self.role_first and actor not in self.allowed:
            return self.denied
        return 404


def _roles(roles: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(roles)
    unknown = chosen - READERS
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return chosen


def public(note: str = "") -> Rule:
    """Anyone, signed in or not."""
    return Rule(allowed=READERS, public=True, note=note)


def signed_in(note: str = "") -> Rule:
    """Any signed-in user; nothing addressed (lists and searches filter by the caller's scope)."""
    return Rule(allowed=READERS, note=note)


def role(roles: Iterable[str], note: str = "") -> Rule:
    """These roles, whatever their organisation; nothing addressed (others: 403)."""
    return Rule(allowed=_roles(roles), note=note)


def admin_only(*, scoped: bool = False, note: str = "") -> Rule:
    """Administrators; checked first (others: 403 everywhere); a scoped object of another
    organisation: 404."""
    return Rule(allowed=ADMIN, scoped=scoped, role_first=True, note=note)


def read(note: str = "") -> Rule:
    """Every member of the object's organisation reads it; outside it: 404."""
    return Rule(allowed=READERS, scoped=True, note=note)


def write(
    roles: Iterable[str] = CONTRIBUTOR_PLUS, *, denied: int = 403, role_first: bool = False, note: str = ""
) -> Rule:
    """These roles of the object's organisation change it (default: contributor and above); the other
    members: ``denied``; outside the organisation: 404 (or ``denied`` when the role is checked first)."""
    return Rule(allowed=_roles(roles), denied=denied, scoped=True, role_first=role_first, note=note)


_SOURCE_ADMINS = "the national agency's administrators see and manage every source (veille.source_rules)"


def read_source(note: str = _SOURCE_ADMINS) -> Rule:
    """An organisation's own source: its members read it; another organisation's members (their
    administrators too): 404."""
    return Rule(allowed=READERS, scoped=True, note=note)


def manage_source(note: str = _SOURCE_ADMINS) -> Rule:
    """An organisation's own source: its curators and administrators manage it; the role is checked first
    (readers and contributors: 403 everywhere); another organisation's curators and administrators: 404."""
    return Rule(allowed=CURATOR_PLUS, scoped=True, role_first=True, note=note)


_OWNER = "per user: own = the actor's own; anyone else's (a colleague's too): 404"


def mine(note: str = _OWNER) -> Rule:
    """An object of one user (a subscription, a token, a session): every role reaches their own;
    anyone else's is 404."""
    return Rule(allowed=READERS, scoped=True, note=note)


_TRASH = "the trash is seen by who may restore only: 404"
_TAXONOMY = "the one shared taxonomy: every organisation's curators"
_TRY = "tries rules on the caller's own text; writes nothing"

# fmt: off
MATRIX: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): public(),
    ("GET", "/api/search"): signed_in("results in the caller's scope"),
    ("GET", "/api/documents/similar"): role(CURATOR_PLUS, "pairs in the caller's scope"),
    ("GET", "/api/documents/trash"): signed_in("what the caller may restore"),
    ("GET", "/api/documents/review"): signed_in("what the caller reviews"),
    ("POST", "/api/documents"): role(CONTRIBUTOR_PLUS, "into the caller's organisation"),
    ("GET", "/api/documents/{doc_id}"): read(),
    ("PATCH", "/api/documents/{doc_id}"): write(),
    ("DELETE", "/api/documents/{doc_id}"): write(),
    ("GET", "/api/documents/{doc_id}/transitions"): read(),
    ("POST", "/api/documents/{doc_id}/transitions"): write(note="submit a draft"),
    ("POST", "/api/documents/{doc_id}/restore"): write(denied=404, note=_TRASH),
    ("POST", "/api/documents/{doc_id}/review"): write(note="the owner (contributor), curators, admins"),
    ("GET", "/api/documents/{doc_id}/content"): read(),
    ("GET", "/api/documents/{doc_id}/similar"): read(note="neighbours in the caller's scope"),
    ("GET", "/api/documents/{doc_id}/preview"): read(),
    ("GET", "/api/documents/{doc_id}/versions"): read(),
    ("POST", "/api/documents/{doc_id}/versions"): write(),
    ("POST", "/api/documents/{doc_id}/versions/{number}/restore"): write(),
    ("GET", "/api/documents/{doc_id}/versions/diff"): read(),
    ("POST", "/api/documents/{doc_id}/lock"): write(),
    ("DELETE", "/api/documents/{doc_id}/lock"): write(note="no lock held: who may edit"),
    ("GET", "/api/documents/{doc_id}/fields"): read(),
    ("PUT", "/api/documents/{doc_id}/fields"): write(),
    ("POST", "/api/documents/{doc_id}/fields/accept"): write(),
    ("GET", "/api/doctypes"): signed_in(),
    ("GET", "/api/doctypes/{notation}"): signed_in(),
    ("GET", "/api/taxonomy/schemes"): signed_in(),
    ("GET", "/api/taxonomy/concepts"): signed_in(),
    ("GET", "/api/taxonomy/concepts/{concept_id}"): signed_in("counts of what the caller may see"),
    ("POST", "/api/taxonomy/concepts"): role(CURATOR_PLUS, _TAXONOMY),
    ("PATCH", "/api/taxonomy/concepts/{concept_id}"): role(CURATOR_PLUS, _TAXONOMY),
    ("POST", "/api/taxonomy/concepts/{concept_id}/move"): role(CURATOR_PLUS, _TAXONOMY),
    ("POST", "/api/taxonomy/concepts/{concept_id}/merge"): role(CURATOR_PLUS, _TAXONOMY),
    ("POST", "/api/taxonomy/concepts/{concept_id}/split"): role(CURATOR_PLUS, _TAXONOMY),
    ("POST", "/api/taxonomy/concepts/{concept_id}/deprecate"): role(CURATOR_PLUS, _TAXONOMY),
    ("GET", "/api/taxonomy/changes"): signed_in(),
    ("GET", "/api/taxonomy/changes/{change_id}"): signed_in(),
    ("POST", "/api/taxonomy/changes/{change_id}/revert"): role(CURATOR_PLUS, _TAXONOMY),
    ("GET", "/api/taxonomy/changes/{change_id}/reclassify"): role(CURATOR_PLUS, _TAXONOMY),
    ("POST", "/api/taxonomy/changes/{change_id}/reclassify"): role(CURATOR_PLUS, _TAXONOMY),
    ("GET", "/api/taxonomy/reclassify/{run_id}"): role(CURATOR_PLUS, _TAXONOMY),
    ("POST", "/api/taxonomy/rules/try"): role(CURATOR_PLUS, _TRY),
    ("POST", "/api/taxonomy/concepts/{concept_id}/try"): role(CURATOR_PLUS, _TRY),
    ("GET", "/api/taxonomy/releases"): signed_in(),
    ("POST", "/api/taxonomy/releases"): role(CURATOR_PLUS, _TAXONOMY),
    ("GET", "/api/taxonomy/releases/{name}/skos"): signed_in(),
    ("POST", "/api/taxonomy/import"): role(CURATOR_PLUS, _TAXONOMY),
    ("GET", "/api/items/{item_id}"): read(),
    ("GET", "/api/items/{item_id}/similar"): read(note="neighbours in the caller's scope"),
    ("POST", "/api/items/{item_id}/decision"): write(CURATOR_PLUS, role_first=True),
    ("GET", "/api/curation/queue"): role(CURATOR_PLUS),
    ("POST", "/api/curation/decisions"): role(CURATOR_PLUS, "items outside the scope fail one by one"),
    ("GET", "/api/stories"): signed_in("stories of the items in scope"),
    ("GET", "/api/stories/{story_id}"): read("a story of the organisation's own items"),
    ("GET", "/api/sources"): signed_in("sources in the caller's sight"),
    ("POST", "/api/sources"): role(CURATOR_PLUS, "into the caller's organisation"),
    ("POST", "/api/sources/preview"): role(CURATOR_PLUS),
    ("POST", "/api/sources/import"): role(CURATOR_PLUS),
    ("GET", "/api/sources/export"): signed_in("feeds in the caller's sight"),
    ("GET", "/api/sources/{source_id}"): read_source(),
    ("PATCH", "/api/sources/{source_id}"): manage_source(),
    ("DELETE", "/api/sources/{source_id}"): manage_source(),
    ("POST", "/api/sources/{source_id}/poll"): manage_source(),
    ("GET", "/api/subscriptions"): signed_in("the caller's own"),
    ("POST", "/api/subscriptions"): signed_in("the caller's own"),
    ("DELETE", "/api/subscriptions"): signed_in("the caller's own"),
    ("GET", "/api/subscriptions/export"): signed_in("the caller's own"),
    ("GET", "/api/subscriptions/{subscription_id}"): mine(),
    ("PATCH", "/api/subscriptions/{subscription_id}"): mine(),
    ("DELETE", "/api/subscriptions/{subscription_id}"): mine(),
    ("GET", "/api/subscriptions/{subscription_id}/preview"): mine(),
    ("GET", "/api/subscriptions/{subscription_id}/history"): mine(),
    ("POST", "/api/subscriptions/{subscription_id}/atom-token"): mine(),
    ("GET", "/api/me"): signed_in("the caller's account"),
    ("GET", "/api/me/tokens"): signed_in("the caller's own"),
    ("POST", "/api/me/tokens"): signed_in("scopes the caller's credential holds"),
    ("DELETE", "/api/me/tokens/{token_id}"): mine(),
    ("GET", "/api/me/sessions"): signed_in("the caller's own"),
    ("DELETE", "/api/me/sessions/{session_id}"): mine(),
    ("POST", "/api/admin/erasures"): admin_only(scoped=True, note="a document of the admin's organisation"),
    ("GET", "/api/admin/erasures"): admin_only(note="the receipts of the admin's organisation"),
    ("GET", "/api/admin/erasures/{receipt_id}"): admin_only(scoped=True),
    ("POST", "/api/admin/erasures/verify"): admin_only(note="checks the receipt the caller holds"),
    ("GET", "/api/admin/audit"): admin_only(note="events of the admin's organisation's actors"),
    ("GET", "/api/indicators"): admin_only(note="own organisation and region; national admins: all"),
    ("GET", "/api/survey"): signed_in("the caller's own answer"),
    ("POST", "/api/survey"): signed_in("the caller's own answer, once a quarter"),
    ("GET", "/api/admin/security-alerts"): admin_only(note="alerts of the admin's organisation"),
    ("POST", "/api/admin/security-alerts/{alert_id}/review"): admin_only(scoped=True),
    ("GET", "/api/admin/guard-budgets"): admin_only(),
    ("PUT", "/api/admin/guard-budgets"): role((), "national agency's administrators only (not a column)"),
}
# fmt: on


def check_routes(openapi: dict[str, object]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The routes of an OpenAPI document missing from ``MATRIX``, and the ``MATRIX`` routes it lacks."""
    paths = openapi.get("paths", {})
    assert isinstance(paths, dict)
    found = {
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete", "head", "options"}
    }
    return sorted(found - set(MATRIX)), sorted(set(MATRIX) - found)


START = "<!-- authz-matrix:start -->"
END = "<!-- authz-matrix:end -->"


def _cell(status: int) -> str:
    return "2xx" if status == OK else str(status)


def markdown_table() -> str:
    """The matrix as a Markdown table (one row per route, one column per actor and organisation)."""
    columns = [("anonymous", "own")] + [(r, o) for r in ROLES for o in ORGS]
    header = ["route", "anonymous"] + [f"{r} ({o})" for r, o in columns[1:]] + ["note"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (method, path), rule in sorted(MATRIX.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cells = [_cell(rule.expect(a, o)) for a, o in columns]
        lines.append(f"| `{method} {path}` | " + " | ".join(cells) + f" | {rule.note} |")
    return "\n".join(lines) + "\n"


def docs_section() -> str:
    """What ``docs/security.md`` shows between ``START`` and ``END``: the count and the table."""
    columns = 1 + len(ROLES) * len(ORGS)
    return (
        f"\n{len(MATRIX)} routes × {columns} actor-organisations (anonymous, then each role in the object's "
        f"own organisation and in another one) = {len(MATRIX) * columns} checks.\n\n{markdown_table()}"
    )


def replace_docs_section(text: str) -> str:
    """``text`` (docs/security.md) with the generated section between the markers."""
    if START not in text or END not in text:
        raise ValueError(f"the markers {START} and {END} are missing")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    return f"{head}{START}\n{docs_section()}{END}{tail}"
