"""watch_region: baseline, a change and its diff, whitespace-only changes, selectors, charsets, caps."""

from __future__ import annotations

import pytest

from tfe.core.errors import ValidationError
from veille.pagewatch import DIFF_MAX_CHARS, decode_html, validate_watch_config, watch_region

URL = "http://example.test/tarifs"
PAGE = """<html><head><title>Droits de douane – Japon</title><style>.x{color:red}</style></head><body>
<nav>Accueil | Contact</nav>
<div id="rates">
  <h2>Taux applicables</h2>
  <ul><li>Vins : <b>0 %</b></li><li>Fromages : 10 %</li></ul>
  <script>track("rates")</script>
</div>
<footer>Mis à jour le 3 mars</footer>
</body></html>"""


def _body(html: str) -> bytes:
    return html.encode("utf-8")


def test_first_poll_is_a_baseline() -> None:
    outcome = watch_region(_body(PAGE), URL, {"selector": "#rates"}, None)
    assert outcome.text == "Taux applicables\nVins : 0 %\nFromages : 10 %"  # script dropped, one line a block
    assert outcome.changed is False and outcome.diff == ""
    assert outcome.title == "Droits de douane – Japon"


def test_change_is_detected_with_a_diff_of_the_new_line() -> None:
    first = watch_region(_body(PAGE), URL, {"selector": "#rates"}, None)
    changed_page = PAGE.replace("<li>Fromages : 10 %</li>", "<li>Fromages : 10 %</li><li>Cognac : 5 %</li>")
    second = watch_region(_body(changed_page), URL, {"selector": "#rates"}, first.text)
    assert second.changed is True
    assert "+Cognac : 5 %" in second.diff.splitlines()
    assert not any(line.startswith("-") and not line.startswith("---") for line in second.diff.splitlines())
    assert second.text.endswith("Cognac : 5 %")


def test_whitespace_and_outside_changes_are_not_changes() -> None:
    first = watch_region(_body(PAGE), URL, {"selector": "#rates"}, None)
    reformatted = PAGE.replace(
        "<ul><li>Vins : <b>0 %</b></li>", "<ul>\n\n   <li>Vins   :\n <b>0 %</b>  </li>"
    )
    reformatted = reformatted.replace("Mis à jour le 3 mars", "Mis à jour le 9 mars")  # outside the region
    again = watch_region(_body(reformatted), URL, {"selector": "#rates"}, first.text)
    assert again.changed is False and again.diff == ""
    assert again.text == first.text


def test_xpath_selector_and_several_matches() -> None:
    outcome = watch_region(_body(PAGE), URL, {"selector": "//li", "selector_type": "xpath"}, None)
    assert outcome.text == "Vins : 0 %\nFromages : 10 %"


def test_selector_matching_nothing_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="le sélecteur ne trouve rien sur la page"):
        watch_region(_body(PAGE), URL, {"selector": "#absent"}, "Taux applicables")
    with pytest.raises(ValidationError, match="le sélecteur ne trouve rien sur la page"):
        watch_region(_body(PAGE), URL, {"selector": "#rates script"}, None)  # only a script: no text


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "obligatoire"),
        ({"selector": "div[", "selector_type": "css"}, "invalide"),
        ({"selector": "//div[", "selector_type": "xpath"}, "invalide"),
        ({"selector": "div", "selector_type": "jq"}, "selector_type"),
    ],
)
def test_bad_config(config: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_watch_config(config)


def test_charsets_header_meta_and_guess() -> None:
    latin = "<html><body><p id='r'>Numéro spécial : exportations été</p></body></html>".encode("latin-1")
    assert "Numéro spécial" in decode_html(latin, "text/html; charset=ISO-8859-1")
    meta = b'<html><head><meta charset="windows-1252"></head><body>' + "Été".encode("cp1252") + b"</body>"
    assert "Été" in decode_html(meta)
    assert "exportations été" in decode_html(latin)  # undeclared, not UTF-8: windows-1252 as browsers do
    russian = "<p>Экспорт во Францию растёт, как и импорт вина.</p>" * 5
    assert "Экспорт во Францию" in decode_html(russian.encode("cp1251"))  # guessed by charset_normalizer
    outcome = watch_region(latin, URL, {"selector": "#r"}, None, content_type="text/html; charset=latin-1")
    assert outcome.text == "Numéro spécial : exportations été"
    assert outcome.title == URL  # no <title>: the URL


def test_diff_is_capped() -> None:
    rows = "".join(f"<p>ligne {i} " + "x" * 60 + "</p>" for i in range(2000))
    first = watch_region(_body(f"<div id='r'>{rows}</div>"), URL, {"selector": "#r"}, None)
    other = rows.replace(" x", " y")
    second = watch_region(_body(f"<div id='r'>{other}</div>"), URL, {"selector": "#r"}, first.text)
    assert second.changed is True
    assert len(second.diff) <= DIFF_MAX_CHARS + 40
    assert second.diff.endswith("(différences tronquées)")
