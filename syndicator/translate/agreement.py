"""Determiners that agree with a glossary rendering the engine never saw.

A glossary term reaches the engine as a placeholder, a number (protect.py), so the engine writes the article a
number takes, the masculine singular, whatever the rendering's gender: "El 8001 abrirá" became "El Autoridad
Portuaria del Océano abrirá", "del 8001" "del Oficina". An Argos model guesses as blindly. After the spans are
put back, the one determiner right before a rendered term (an article, an article contracted with a
preposition, a demonstrative, an indefinite) is put in the rendering's gender and number: "La Autoridad…",
"de la Oficina…", "a la…", "los Servicios…", and the other way round ("el Departamento" after a feminine guess).
Nothing else is touched: not the words before it, not the term, nothing inside another protected span or tag.

The gender and number come from the glossary (`gender = { es = "f" }`) or, where it declares none, from the
target language's own Apertium analyser (shipped by the pair in the other direction: apertium-eng-spa's spa-eng
reads Spanish) reading the rendering's first word, "Autoridad" → `<n><f><sg>`; once per rendering and
language. A first word the analyser does not know, or knows with more than one gender or number, or as an
article ("La Caixa"), gives nothing: the output stays as the engine wrote it. So does every language without a
table below (only es, ca, gl have one).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from syndicator.config.languages import primary_language
from syndicator.glossary import Agreement
from syndicator.translate.apertium import analyse

# Each group: the forms for masculine singular, feminine singular, masculine plural, feminine plural.
_GROUPS = {
    "es": (("el", "la", "los", "las"), ("del", "de la", "de los", "de las"), ("al", "a la", "a los", "a las"),
           ("un", "una", "unos", "unas"), ("este", "esta", "estos", "estas"), ("ese", "esa", "esos", "esas"),
           ("aquel", "aquella", "aquellos", "aquellas"), ("algún", "alguna", "algunos", "algunas"),
           ("ningún", "ninguna", "ningunos", "ningunas"), ("otro", "otra", "otros", "otras"),
           ("nuestro", "nuestra", "nuestros", "nuestras"), ("dicho", "dicha", "dichos", "dichas")),
    "ca": (("el", "la", "els", "les"), ("del", "de la", "dels", "de les"), ("al", "a la", "als", "a les"),
           ("pel", "per la", "pels", "per les"), ("un", "una", "uns", "unes"),
           ("aquest", "aquesta", "aquests", "aquestes"), ("aquell", "aquella", "aquells", "aquelles"),
           ("algun", "alguna", "alguns", "algunes"), ("altre", "altra", "altres", "altres"), ("nostre", "nostra", "nostres", "nostres")),
    "gl": (("o", "a", "os", "as"), ("do", "da", "dos", "das"), ("ao", "á", "aos", "ás"), ("no", "na", "nos", "nas"),
           ("polo", "pola", "polos", "polas"), ("un", "unha", "uns", "unhas"), ("dun", "dunha", "duns", "dunhas"),
           ("nun", "nunha", "nuns", "nunhas"), ("este", "esta", "estes", "estas"), ("ese", "esa", "eses", "esas"),
           ("aquel", "aquela", "aqueles", "aquelas"), ("deste", "desta", "destes", "destas"),
           ("neste", "nesta", "nestes", "nestas"), ("algún", "algunha", "algúns", "algunhas"),
           ("outro", "outra", "outros", "outras"), ("noso", "nosa", "nosos", "nosas")),
}  # fmt: skip
# Catalan elides the singular article before a vowel or h: "l'Autoritat", "de l'Oficina", "a l'Institut".
_ELIDED = {"ca": {"el": "l'", "del": "de l'", "al": "a l'", "pel": "per l'"}}
# Forms that are also a preposition (Galician "a": "to"): read as an article only where a sentence opens.
_ONLY_AT_START = {"gl": frozenset({"a"})}
_VOWEL = re.compile(r"h?[aeiouàáèéíòóúïü]", re.IGNORECASE)
# A feminine word on an unstressed i or u keeps "la" ("la Universitat"), on a stressed one it elides ("l'illa"):
# the stress is not known here, so both are accepted as written.
_I_OR_U = re.compile(r"h?[iuíúïü]", re.IGNORECASE)
_APOSTROPHE = "['’]"
_OPENING = re.compile(r"(?:^|[.!?:;]\s*)[\"“«¿¡(\[\s]*$")
_HEAD = re.compile(r"[^\W\d_][\w-]*")
_TAG = re.compile(r"<([^>]+)>")
_ANALYSER_TIMEOUT = 15.0


@dataclass(frozen=True)
class _Table:
    groups: tuple[tuple[str, str, str, str], ...]
    elided: Mapping[str, str] = field(default_factory=dict)
    only_at_start: frozenset[str] = frozenset()

    def forms(self) -> dict[str, list[tuple[int, int]]]:
        """Each form (lower case, apostrophe as "'") → the (group, slot) pairs it stands for."""
        found: dict[str, list[tuple[int, int]]] = {}
        for g, group in enumerate(self.groups):
            for slot, form in enumerate(group):
                found.setdefault(form, []).append((g, slot))
            if group[0] in self.elided:
                found.setdefault(self.elided[group[0]], []).extend([(g, 0), (g, 1)])
        return found

    def pattern(self) -> re.Pattern[str]:
        """A determiner ending the text, with the space after it (none after an apostrophe)."""
        forms = sorted(self.forms(), key=len, reverse=True)
        alternatives = "|".join(
            r"\s+".join(re.escape(w) for w in f.split(" ")).replace("'", _APOSTROPHE) for f in forms
        )
        return re.compile(rf"(?<![\w'’-])({alternatives})(\s+|(?<=['’]))\Z", re.IGNORECASE)

    def wanted(self, group: int, slot: int, rendering: str, touching: bool) -> tuple[str, ...]:
        """The forms that agree, the preferred first."""
        full = self.groups[group][slot]
        elided = self.elided.get(self.groups[group][0])
        if elided is None or slot > 1 or not touching or not _VOWEL.match(rendering):
            return (full,)
        return (full, elided) if slot == 1 and _I_OR_U.match(rendering) else (elided,)


_TABLES = {
    language: _Table(groups, _ELIDED.get(language, {}), _ONLY_AT_START.get(language, frozenset()))
    for language, groups in _GROUPS.items()
}
_FORMS = {language: table.forms() for language, table in _TABLES.items()}
_PATTERNS = {language: table.pattern() for language, table in _TABLES.items()}


def agree(before: str, rendering: str, language: str, agreement: Agreement, touching: bool = True) -> str:
    """`before` (the text right before a rendered term) with the determiner that ends it, if any, in the
    rendering's gender and number; everything else as it was. `touching`: nothing (no tag) stands between
    `before` and the term, so an elided article may be written or unwritten ("l'" joins the term)."""
    base = primary_language(language)
    table = _TABLES.get(base)
    if table is None:
        return before
    m = _PATTERNS[base].search(before)
    if m is None:
        return before
    written, gap = m.group(1), m.group(2)
    form = re.sub(r"\s+", " ", written.lower()).replace("’", "'")
    if form not in _FORMS[base]:
        return before  # matched only through Unicode case folding ("loſ")
    if form in table.only_at_start and not _OPENING.search(before[: m.start()]):
        return before
    if form.endswith("'") and not touching:
        return before
    slot = (2 if agreement.plural else 0) + (1 if agreement.gender == "f" else 0)
    for group, _ in _FORMS[base][form]:
        wanted = table.wanted(group, slot, rendering, touching)
        if form in wanted:
            return before
    group = _FORMS[base][form][0][0]
    new = _cased(written, table.wanted(group, slot, rendering, touching)[0])
    if "’" in written:
        new = new.replace("'", "’")
    if new.endswith(("'", "’")):
        gap = ""
    elif not gap:
        gap = " "
    return before[: m.start()] + new + gap


def _cased(like: str, form: str) -> str:
    """`form` in the case of `like`: "El" → "La", "DEL" → "DE LA", "del" → "de la"."""
    letters = [c for c in like if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return form.upper()
    if like[:1].isupper():
        return form[:1].upper() + form[1:]
    return form


_lock = threading.Lock()
_inferred: dict[tuple[str, str], Agreement | None] = {}  # (language, rendering) → what its analyser said


def agreements(
    language: str, renderings: Iterable[str], declared: Mapping[str, Agreement]
) -> dict[str, Agreement]:
    """Rendering → gender and number, for the renderings whose gender is declared or can be inferred; empty
    in a language without a table. The analyser runs once for the renderings not seen before (a failure
    is logged and tried again with the next article)."""
    base = primary_language(language)
    if base not in _TABLES:
        return {}
    found = dict(declared)
    wanted = {r for r in renderings if r not in found}
    with _lock:
        missing = {r for r in wanted if (base, r) not in _inferred}
    if missing:
        heads = {r: m.group() if (m := _HEAD.match(r)) else "" for r in missing}
        readings = analyse(base, {h for h in heads.values() if h}, _ANALYSER_TIMEOUT)
        if readings is not None:
            with _lock:
                for rendering, head in heads.items():
                    _inferred[(base, rendering)] = _from_readings(readings.get(head, []))
    with _lock:
        for rendering in wanted:
            inferred = _inferred.get((base, rendering))
            if inferred is not None:
                found[rendering] = inferred
    return found


def _from_readings(readings: Iterable[str]) -> Agreement | None:
    """The one gender and number of a word's noun and adjective readings ("Autoridad<n><f><sg>"); None for an
    unknown word, an article or determiner, or readings that disagree."""
    seen: set[tuple[str, str]] = set()
    for reading in readings:
        tags = _TAG.findall(reading.split("+")[0])
        if not tags:
            continue  # "*Harbour": unknown
        if tags[0] in ("det", "predet", "prn"):
            return None  # the rendering brings its own article ("La Caixa")
        if tags[0] in ("n", "adj"):
            gender = next((t for t in tags if t in ("m", "f", "mf", "GD", "nt")), "")
            number = next((t for t in tags if t in ("sg", "pl", "sp", "ND")), "")
            seen.add((gender, number))
    if len(seen) != 1:
        return None
    ((gender, number),) = seen
    if gender not in ("m", "f") or number not in ("sg", "pl"):
        return None
    return Agreement(gender, number == "pl")
