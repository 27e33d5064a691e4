"""``taxonomy.reclassify``: touched concepts, search terms of a change, gains and losses, French summary."""

from __future__ import annotations

from taxonomy.models import TaxonomyChange
from taxonomy.reclassify import compare, search_terms, summary_fr, touched_concepts


def _change(before: dict, after: dict, moved: list | None = None) -> TaxonomyChange:  # type: ignore[type-arg]
    return TaxonomyChange(
        action="edit", concept_id="naf:01.21", before=before, after=after, moved=moved or []
    )


def test_touched_concepts_and_terms_of_a_rules_change() -> None:
    old = {"pref_label_fr": "Culture de la vigne", "rules": []}
    new = {
        "pref_label_fr": "Culture de la vigne",
        "alt_labels": {"fr": ["viticulture"]},
        "rules": [
            {"kind": "any", "pattern": "vigne vignoble"},
            {"kind": "phrase", "pattern": "raisin de cuve"},
            {"kind": "regex", "pattern": r"\bc[eé]pages?\b"},
        ],
    }
    change = _change(
        {"naf:01.21": old}, {"naf:01.21": new}, [{"id": 1, "from": "naf:01.22", "to": "naf:01.21"}]
    )
    assert touched_concepts(change) == ["naf:01.21", "naf:01.22"]
    terms = search_terms(change)
    assert '"Culture de la vigne"' in terms and "viticulture" in terms
    assert {"vigne", "vignoble", '"raisin de cuve"', "pages"} <= set(terms)


def test_a_move_adds_no_search_terms() -> None:
    row = {"pref_label_fr": "Culture de la vigne", "broader_id": "naf:01.2"}
    change = _change({"naf:01.21": row}, {"naf:01.21": {**row, "broader_id": "naf:01.1"}})
    assert search_terms(change) == []


def test_compare_counts_gains_and_losses_and_leaves_curated_concepts_out() -> None:
    a, b, c = ("item", "a"), ("item", "b"), ("document", "c")
    current = {a: {"x"}, b: {"x", "y"}, c: set()}
    proposed = {a: set(), b: {"x", "y"}, c: {"x"}}
    report = compare(current, proposed, ["x"], curated={})
    assert report == {"x": {"item": {"gain": 0, "lose": 1}, "document": {"gain": 1, "lose": 0}}}
    assert compare(current, proposed, ["x"], curated={c: {"x"}, a: {"x"}}) == {}


def test_summary_agrees_in_number_and_tense() -> None:
    report = {"x": {"document": {"gain": 214, "lose": 12}}, "y": {"item": {"gain": 1, "lose": 0}}}
    labels = {"x": "Viticulture", "y": "Vin"}.__getitem__
    assert summary_fr(report, labels) == (
        "214 documents gagneraient le concept « Viticulture », 12 documents le perdraient ; "
        "1 élément de veille gagnerait le concept « Vin »."
    )
    assert "1 élément de veille a gagné le concept « Vin »" in summary_fr(report, labels, done=True)
    assert summary_fr({}, labels) == "Aucun classement ne changerait."
