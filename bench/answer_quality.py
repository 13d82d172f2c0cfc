"""How paperradar's checks treat answers a good model writes (issues 11 and 15).

    from bench.answer_quality import measure
    measure()            # {"corpus": {...}, "faithfulness": {...}} over tests/fixtures/answers/

    python bench/answer_quality.py            # the figures, then every reject and every wrong ⚠
    python bench/answer_quality.py --json     # the figures as JSON

Two fixtures (tests/fixtures/answers/README.md says how they were made):

  corpus.jsonl        realistic answers (restated seed texts and their variants) in every task and language.
                      Each goes through paperradar's own arrival path: check_interest; parse_answer +
                      check_text; parse_style_answer (+ check_answer for the ⚠ marks). An answer that fails
                      is a false reject: in a real run it costs one repair call (the whole prompt again).
  faithfulness.jsonl  style answers with every ⚠-worthy claim labelled (planted errors: a wrong number, a
                      rounded number, a wrong unit, a made-up model or dataset name, a wrong company; and
                      natural ones) plus correct-but-tricky claims. A ⚠ mark on a claim labelled wrong is a
                      hit; any other mark is a false alarm.
                      precision = hits / marks; recall = planted errors marked / planted errors.

Nothing here calls a model or the network; the figures are deterministic.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/answer_quality.py` from anywhere
    sys.path.insert(0, str(ROOT))

from paperradar.llm.prompts import render  # noqa: E402
from paperradar.llm.schemas import (  # noqa: E402
    AnswerError,
    check_interest,
    check_text,
    extract_json,
    parse_answer,
)
from paperradar.models import Paper, SourceText  # noqa: E402
from paperradar.sources.fulltext import fit_to_budget, parse_html  # noqa: E402
from paperradar.write.styles.schemas import parse_style_answer  # noqa: E402
from paperradar.write.styles.tasks import check_answer, render_prompt  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "answers"
FULLTEXT = ROOT / "tests" / "fixtures" / "fulltext"
STYLES = ("highlight", "review", "dialogue")
# Kinds of planted error the recall goal is about (issue 15, item 2).
PLANTED = ("wrong number", "rounded number", "wrong unit", "made-up name", "wrong company")


# --- fixtures --------------------------------------------------------------------------------------------


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_papers(folder: Path = FIXTURES) -> dict[str, Paper]:
    papers = {}
    for r in load_jsonl(folder / "papers.jsonl"):
        papers[r["id"]] = Paper(
            r["id"], r["title"], r["authors"], r["abstract"], categories=r["categories"], comment=r["comment"]
        )
    return papers


def source_text(item: dict[str, Any], paper: Paper) -> SourceText | None:
    """What the style prompt carried besides the abstract, as style_tasks.prepare_sources would give it.

    "fulltext:<file>" is an HTML fixture in tests/fixtures/fulltext. "fulltext (not stored)" marks a seed
    written from a full text we do not have (seed 004's review): it is validated as a full-text answer,
    with the abstract standing in for the text, so only the checks that need no source can fail it."""
    origin = item.get("written_from", "abstract")
    if origin.startswith("fulltext:"):
        full = parse_html((FULLTEXT / origin.split(":", 1)[1]).read_text(encoding="utf-8"))
        return SourceText(
            fit_to_budget(full, 6000), "html", tuple(full.check_texts()), tuple(full.affiliations)
        )
    if origin == "fulltext (not stored)":
        return SourceText(paper.abstract, "html", (paper.abstract,), ())
    return None


def with_affiliations(paper: Paper, item: dict[str, Any]) -> Paper:
    affiliations = item.get("affiliations")
    if not affiliations:
        return paper
    return Paper(
        paper.arxiv_id,
        paper.title,
        paper.authors,
        paper.abstract,
        categories=paper.categories,
        comment=paper.comment,
        affiliations=list(affiliations),
    )


# --- the arrival path ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Verdict:
    item: str
    task: str
    language: str
    error: str | None  # None: accepted as it stands
    marks: list[str] = field(default_factory=list)  # surfaces the ⚠ check marked (style answers)


def arrive(item: dict[str, Any], papers: dict[str, Paper], *, mark_rejected: bool = False) -> Verdict:
    """One answer through the checks a real run applies when it arrives. With `mark_rejected`, a style
    answer that fails validation is still run through the ⚠ check (on its raw JSON), so the check can be
    measured on its own."""
    task, lang, text = item["task"], item["language"], item["answer"]
    paper = with_affiliations(papers[item["papers"][0]], item)
    verdict = Verdict(item["id"], task, lang, None)
    try:
        if task == "interest":
            batch = [papers[p] for p in item["papers"]]
            prompt = render("interest", batch, lang)
            _good, bad = check_interest(text, prompt.ids, lang, prompt.messages[1]["content"])
            if bad:
                verdict.error = "; ".join(bad.values())
        elif task in ("title", "summary", "company"):
            prompt = render(task, [paper], lang)
            given = paper.title if task == "title" else prompt.messages[1]["content"]
            check_text(task, parse_answer(task, text), lang, given)
        elif task in STYLES:
            full = source_text(item, paper)
            prompt = render_prompt(task, paper, lang, full)  # what style_tasks sends for this paper
            sent, from_abstract = prompt.messages[1]["content"], full is None
            try:
                data = parse_style_answer(task, text, lang, sent, from_abstract=from_abstract)
            except AnswerError as exc:
                if not mark_rejected:
                    raise
                verdict.error, data = str(exc), extract_json(text)
            report = check_answer(data, paper, full, lang)
            verdict.marks = [c.surface for c in report.unverified]
        else:
            raise ValueError(f"{item['id']}: unknown task {task!r}")
    except AnswerError as exc:
        verdict.error = str(exc)
    return verdict


# --- scoring ---------------------------------------------------------------------------------------------


def _same_claim(mark: str, surface: str) -> bool:
    """A mark names a labelled claim when one contains the other ("0.3%" / "0.3%", "Qwen3" / "Qwen3-72B")."""
    a, b = mark.strip().lower(), surface.strip().lower()
    return bool(a) and bool(b) and (a in b or b in a)


def score_faithfulness(items: Iterable[dict[str, Any]], papers: dict[str, Paper]) -> dict[str, Any]:
    marks = hits = planted = planted_hit = wrong = wrong_hit = tricky = tricky_marked = 0
    false_alarms: list[str] = []
    missed: list[str] = []
    rejected: list[str] = []
    answers = 0
    for item in items:
        answers += 1
        verdict = arrive(item, papers, mark_rejected=True)
        if verdict.error:  # the ⚠ check still ran; the reject is reported on its own
            rejected.append(f"{item['id']}: {verdict.error}")
        claims = item["claims"]
        bad = [c for c in claims if c["label"] == "wrong"]
        good = [c for c in claims if c["label"] == "right"]
        for mark in verdict.marks:
            marks += 1
            if any(_same_claim(mark, c["surface"]) for c in bad):
                hits += 1
            else:
                false_alarms.append(f"{item['id']}: {mark}")
        for c in bad:
            found = any(_same_claim(m, c["surface"]) for m in verdict.marks)
            wrong += 1
            wrong_hit += found
            if c.get("planted"):
                planted += 1
                planted_hit += found
            if not found:
                missed.append(f"{item['id']}: {c['surface']} ({c.get('planted') or c.get('why', '')})")
        for c in good:
            tricky += 1
            tricky_marked += any(_same_claim(m, c["surface"]) for m in verdict.marks)
    return {
        "answers": answers,
        "marks": marks,
        "hits": hits,
        "precision": round(hits / marks, 3) if marks else None,
        "planted_errors": planted,
        "planted_marked": planted_hit,
        "recall_planted": round(planted_hit / planted, 3) if planted else None,
        "wrong_claims": wrong,
        "recall_all_wrong": round(wrong_hit / wrong, 3) if wrong else None,
        "tricky_right_claims": tricky,
        "tricky_right_marked": tricky_marked,
        "false_alarms": false_alarms,
        "missed": missed,
        "rejected": rejected,
    }


def score_corpus(items: list[dict[str, Any]], papers: dict[str, Paper]) -> dict[str, Any]:
    verdicts = [arrive(item, papers) for item in items]
    rejected = [v for v in verdicts if v.error]
    by_task: dict[str, list[int]] = {}
    for v in verdicts:
        counts = by_task.setdefault(f"{v.task}/{v.language}", [0, 0])
        counts[0] += v.error is None
        counts[1] += 1
    return {
        "total": len(verdicts),
        "accepted": len(verdicts) - len(rejected),
        # A rejected answer costs one repair request in a real run (the whole prompt again).
        "repairs_needed": len(rejected),
        "marks": sum(len(v.marks) for v in verdicts),
        "by_task": {k: f"{a}/{n}" for k, (a, n) in sorted(by_task.items())},
        "rejects": [f"{v.item} ({v.task}/{v.language}): {v.error}" for v in rejected],
    }


def measure(folder: Path = FIXTURES) -> dict[str, Any]:
    papers = load_papers(folder)
    corpus = score_corpus(load_jsonl(folder / "corpus.jsonl"), papers)
    labelled = load_jsonl(folder / "faithfulness.jsonl")
    faithful = score_faithfulness(labelled, papers)
    return {"corpus": corpus, "faithfulness": faithful}


def main(argv: list[str]) -> None:
    result = measure()
    if "--json" in argv:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    c, f = result["corpus"], result["faithfulness"]
    print(
        f"realistic answers accepted   {c['accepted']}/{c['total']}  (repairs needed: {c['repairs_needed']})"
    )
    print(
        f"⚠ precision                  {f['precision']}  ({f['hits']} of {f['marks']} marks on wrong claims)"
    )
    print(
        f"⚠ recall on planted errors   {f['recall_planted']}  ({f['planted_marked']}/{f['planted_errors']})"
    )
    print(f"⚠ recall on all wrong claims {f['recall_all_wrong']}  ({f['wrong_claims']} labelled)")
    print(f"tricky right claims marked   {f['tricky_right_marked']}/{f['tricky_right_claims']}")
    for title, rows in (
        ("rejected corpus answers", c["rejects"]),
        ("false alarms", f["false_alarms"]),
        ("missed wrong claims", f["missed"]),
        ("rejected labelled answers", f["rejected"]),
    ):
        if rows:
            print(f"\n{title}:")
            for row in rows:
                print(f"  {row}")


if __name__ == "__main__":
    main(sys.argv[1:])
