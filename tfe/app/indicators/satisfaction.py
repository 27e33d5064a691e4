"""Satisfaction: the quarterly survey's answers (``tfe.app.survey``) given in the period: ``responses``,
``declined``, ``score_mean``, ``nps`` (promoters, 9 and 10, less detractors, 0 to 6, in % of the answers)
and the distribution (``score_0`` .. ``score_10``); in total, by organisation (network and region scopes)
and by region (network scope). Every cell is computed from the people who answered in its group, so a group
of 1 to 4 respondents is suppressed whole (``privacy``). Comments are never read here."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import distinct, func, select

from tfe.app.indicators.context import Context
from tfe.app.indicators.privacy import Cell, people_cell
from tfe.core.models import Organisation, SurveyResponse

__all__ = ["satisfaction"]

SCORES = range(11)


def satisfaction(ctx: Context) -> list[Cell]:
    answers: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    people: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"answered": 0, "declined": 0})
    for slug, region, score, n in _answer_rows(ctx):
        answers[(str(slug), region or "")][int(score)] = int(n)
    for slug, region, declined, n in _people_rows(ctx):
        people[(str(slug), region or "")]["declined" if declined else "answered"] += int(n)
    groups: dict[str, Any] = {"": lambda key: ""}
    if ctx.scope.kind != "org":
        groups["org"] = lambda key: key[0]
    if ctx.scope.kind == "network":
        groups["region"] = lambda key: key[1]
    cells: list[Cell] = []
    for name, value_of in groups.items():
        scores: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(SCORES, 0))
        counts: dict[str, dict[str, int]] = defaultdict(lambda: {"answered": 0, "declined": 0})
        for key in set(answers) | set(people):
            value = value_of(key)
            for s, n in answers.get(key, {}).items():
                scores[value][s] += n
            for k, n in people.get(key, {}).items():
                counts[value][k] += n
        values = [""] if not name else sorted(v for v in set(scores) | set(counts) if v)
        for value in values:
            dims = {name: value} if name else {}
            cells += _group_cells(scores.get(value, dict.fromkeys(SCORES, 0)), counts.get(value), dims)
    return cells


def _group_cells(scores: dict[int, int], counts: dict[str, int] | None, dims: dict[str, str]) -> list[Cell]:
    answered = (counts or {}).get("answered", 0)
    declined = (counts or {}).get("declined", 0)
    total = sum(scores.values())
    mean = round(sum(s * n for s, n in scores.items()) / total, 2) if total else None
    promoters = scores[9] + scores[10]
    detractors = sum(scores[s] for s in range(7))
    nps = round(100.0 * (promoters - detractors) / total, 1) if total else None
    cells = [
        people_cell("responses", total, answered, dims=dims),
        people_cell("declined", declined, declined, dims=dims),
        people_cell("score_mean", mean, answered, dims=dims),
        people_cell("nps", nps, answered, dims=dims),
    ]
    cells += [people_cell(f"score_{s}", scores[s], answered, dims=dims) for s in SCORES]
    return cells


def _where(ctx: Context) -> list[Any]:
    return [ctx.within(SurveyResponse.created_at), ctx.orgs(SurveyResponse.org_id)]


def _answer_rows(ctx: Context) -> Any:
    """Answers per (organisation, region, score)."""
    return ctx.session.execute(
        select(Organisation.slug, Organisation.region, SurveyResponse.score, func.count(SurveyResponse.id))
        .join(Organisation, Organisation.id == SurveyResponse.org_id)
        .where(*_where(ctx), SurveyResponse.declined.is_(False), SurveyResponse.score.is_not(None))
        .group_by(Organisation.slug, Organisation.region, SurveyResponse.score)
    )


def _people_rows(ctx: Context) -> Any:
    """Distinct respondents per (organisation, region, answered or declined)."""
    return ctx.session.execute(
        select(
            Organisation.slug,
            Organisation.region,
            SurveyResponse.declined,
            func.count(distinct(SurveyResponse.user_id)),
        )
        .join(Organisation, Organisation.id == SurveyResponse.org_id)
        .where(*_where(ctx))
        .group_by(Organisation.slug, Organisation.region, SurveyResponse.declined)
    )
