"""What a site reader is told about each field, in the reader's language: who made it (a model's name,
extractive, heuristic), in which language when another language's text stands in, and why the reader's
own is missing. One wording for the site's cards and paper pages, its feeds and the Jekyll posts; every
string comes from text/labels.py, the catalog the Markdown digest uses too.

    title, highlight, score: LLM m                          (all by one model: said once)
    Summary: LLM m, in English (the LLM call failed, …)     (the same model's English text stands in)
    Title, summary: not written (ranked below the day's top 20; …)
"""

from __future__ import annotations

from collections.abc import Sequence

from paperradar.models import Interest
from paperradar.publish.site_data import DayItem, PaperView, Shown, TextView
from paperradar.text.labels import LANGUAGES, interest_reason, labels, why_text
from paperradar.write.styles.tasks import FULLTEXT_STYLES


def field_name(kind: str, language: str) -> str:
    """The name of a field in `language`: "Title", "Summary", "Score" or the style's ("Highlight")."""
    lab = labels(language)
    return lab.get(f"field_{kind}") or lab.get(f"style_{kind}") or kind


def maker(shown: Shown, language: str, top_n: int | None) -> str:
    """Who made the text shown (or that nothing was written), and why when it stands in for a model's
    text in the reader's language."""
    lab = labels(language)
    text = shown.text
    why = why_text(language, shown.why, top_n=top_n) if shown.why is not None else None
    if text is None:
        made = lab["prov_missing"]
    elif text.by_model:
        made = lab["mode_model"].format(model=text.mode)
        if text.language != language and text.language in LANGUAGES and why is not None:
            # says which language stands in, and why the reader's own is missing
            return lab["prov_other_language"].format(maker=made, lang=lab[f"lang_{text.language}"], why=why)
    else:
        made = lab["prov_extractive"]
    return made if why is None else lab["prov_why"].format(maker=made, why=why)


def interest_maker(interest: Interest, language: str) -> str:
    lab = labels(language)
    if interest.mode != "heuristic":
        return lab["mode_model"].format(model=interest.mode)
    why = why_text(language, interest.missing or "no_model")
    return lab["prov_why"].format(maker=lab["prov_heuristic"], why=why)


def reason(item: DayItem, language: str) -> tuple[str, str]:
    """The interest reason in `language` and, when only another language's exists, a note naming it."""
    return interest_reason(item.interest, language)


def style_notes(text: TextView | None, style: str, language: str) -> list[str]:
    """What a style page's footer said besides its writer: what the model read, and unverified claims."""
    if text is None or not text.by_model:
        return []
    lab = labels(language)
    notes = []
    if style in FULLTEXT_STYLES and text.source:
        notes.append(
            lab["prov_from_fulltext"].format(source=text.source.upper())
            if text.source in ("html", "pdf")
            else lab["prov_from_abstract"]
        )
    if text.unverified:
        notes.append(lab["prov_unverified"].format(n=text.unverified))
    return notes


def card_body(view: PaperView, language: str) -> tuple[str, Shown]:
    """A card shows the highlight when there is one to show (a model's, or the extractive one where the
    model's failed), else the summary."""
    highlight = view.shown("highlight", language)
    if highlight.text is not None:
        return "highlight", highlight
    return "summary", view.shown("summary", language)


def card_fields(item: DayItem, language: str) -> list[tuple[str, str]]:
    """(field, maker) of everything a card shows, in card order. An English reader's title is the
    original, made by nobody; a summary or highlight that is simply absent and not asked is left out."""
    view = item.paper
    top_n = view.rule.top_n
    fields: list[tuple[str, str]] = []
    if language != "en":
        fields.append(("title", maker(view.shown("title", language), language, top_n)))
    kind, body = card_body(view, language)
    if body.text is not None or body.why not in (None, "no_model"):
        fields.append((kind, maker(body, language, top_n)))
    fields.append(("score", interest_maker(item.interest, language)))
    return fields


def provenance_line(fields: Sequence[tuple[str, str]], language: str) -> str:
    """One line for a card's fields, where fields made the same way share one mention, so a model is
    credited once per card: "Title, highlight, score: LLM m; Summary: extractive (…)"."""
    lab = labels(language)
    groups: dict[str, list[str]] = {}
    for kind, made in fields:
        groups.setdefault(made, []).append(kind)
    parts = []
    for made, kinds in groups.items():
        names = [field_name(k, language) for k in kinds]
        if language == "en":  # "Title, summary: …": one capital, at the start of the group
            names = [names[0]] + [n.lower() for n in names[1:]]
        parts.append(lab["prov_group"].format(fields=lab["prov_field_sep"].join(names), maker=made))
    return lab["prov_sep"].join(parts)
