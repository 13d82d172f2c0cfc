"""`paperradar eval` with no file: the reader's own ratings in a real SQLite store, judged per announcement
day. The store holds tests/fixtures/personal's cs.IR listings; the reader's picks become up-ratings given on
the listing day each picked paper was shown (the latest cs.IR listing on or before the pick's day). The
figures must equal `evaluate` on the equivalent picks and pools, and no history may hold anything dated on
or after its judged day."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from paperradar.evaluate import Pick, Pool, default_rankers, evaluate
from paperradar.evaluate.own import _Archive, cutoff_for, evaluate_own, format_own, history_until_day
from paperradar.evaluate.own_panel import PanelCache, PanelInputs, cached_panel, panel_key
from paperradar.models import Paper
from paperradar.rank.config import KeywordsConfig
from paperradar.rank.personal.config import PersonalConfig
from paperradar.rank.personal.history import History
from paperradar.sources import read_jsonl
from paperradar.store import Store
from tests.cli_runner import run_cli
from tests.own_ratings import CATS, FIX, LISTINGS, fill, filled_store, rate_at

UNTIL = date(2026, 3, 6)  # the fixture's last pick


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return filled_store(tmp_path_factory.mktemp("own"))


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    with Store(store_path) as s:
        yield s


def equivalent(store: Store) -> tuple[list[Pick], list[Pool]]:
    """The ratings as a picks file and the announcement days as a pools file, for `evaluate`."""
    picks = [Pick(when.date(), i, "cs.IR") for i, v, when in store.rating_history(datetime.now(UTC)) if v > 0]
    days = sorted({p.date for p in picks})
    pools = [Pool(d, "cs.IR", [a.arxiv_id for a in store.announcements(d, CATS)]) for d in days]
    return picks, pools


def test_window_history_equals_evaluate_on_the_equivalent_files(store: Store) -> None:
    own = evaluate_own(store, CATS, default_rankers(), weeks=1, until=UNTIL, refresh="window")
    picks, pools = equivalent(store)
    first = UNTIL - timedelta(days=6)
    ref = evaluate(
        store, picks, pools, first - timedelta(days=1), default_rankers(), judge_until=UNTIL, categories=CATS
    )
    assert own.report is not None and own.judged_days == len(ref.days) >= 3
    assert [d["date"] for d in own.report.days] == [d["date"] for d in ref.days]
    for mine, theirs in zip(own.report.days, ref.days, strict=True):
        assert (mine["n"], mine["picks"]) == (theirs["n"], theirs["picks"])
        assert mine["metrics"] == theirs["metrics"]
    assert own.summary() == ref.summary()
    assert own.message is None
    text = format_own(own)
    assert "recall@10" in text and f"{own.judged_days} judged days" in text


def test_day_history_equals_evaluate_day_by_day(store: Store) -> None:
    own = evaluate_own(store, CATS, default_rankers(), weeks=1, until=UNTIL, refresh="day")
    picks, pools = equivalent(store)
    assert own.report is not None and own.judged_days >= 3
    for row in own.report.days:
        day = date.fromisoformat(row["date"])
        ref = evaluate(
            store, picks, pools, day - timedelta(days=1), default_rankers(), judge_until=day, categories=CATS
        )
        assert [d["date"] for d in ref.days] == [row["date"]]
        assert row["metrics"] == ref.days[0]["metrics"]
        assert row["history_until"] == (day - timedelta(days=1)).isoformat()


def test_week_cutoffs() -> None:
    first = date(2026, 2, 1)
    assert cutoff_for(date(2026, 2, 1), first, "week") == date(2026, 1, 31)
    assert cutoff_for(date(2026, 2, 7), first, "week") == date(2026, 1, 31)
    assert cutoff_for(date(2026, 2, 8), first, "week") == date(2026, 2, 7)
    assert cutoff_for(date(2026, 2, 8), first, "day") == date(2026, 2, 7)
    assert cutoff_for(date(2026, 2, 20), first, "window") == date(2026, 1, 31)
    with pytest.raises(ValueError):
        cutoff_for(first, first, "month")


class _Spy:
    """A ranker that keeps what it was given, to look for leaks."""

    name = "spy"

    def __init__(self) -> None:
        self.seen: list[tuple[History, list[str]]] = []

    def rank(self, pool: list[Paper], history: History) -> list[str]:
        self.seen.append((history, [p.arxiv_id for p in pool]))
        return [p.arxiv_id for p in pool]


@pytest.mark.parametrize("refresh", ["day", "week", "window"])
def test_no_rating_on_or_after_a_judged_day_reaches_its_history(tmp_path: Path, refresh: str) -> None:
    with Store(tmp_path / "leak.db") as store:
        rated = fill(store)
        # Later ratings of papers shown earlier: an up-rating and a down-rating given after their day.
        first_day = rated[0][1]
        unrated = [a.arxiv_id for a in store.announcements(first_day, CATS) if a.arxiv_id not in dict(rated)]
        late_up, late_down = unrated[:2]
        rate_at(store, late_up, 1, datetime(2026, 3, 5, 9, tzinfo=UTC))
        rate_at(store, late_down, -1, datetime(2026, 3, 5, 9, tzinfo=UTC))
        spy = _Spy()
        own = evaluate_own(store, CATS, [spy], weeks=2, until=UNTIL, refresh=refresh)
        assert own.report is not None and spy.seen
        when = {i: w for i, _, w in store.rating_history(datetime.now(UTC))}
        for (history, pool), row in zip(spy.seen, own.report.days, strict=True):
            day = date.fromisoformat(row["date"])
            assert history.cutoff < day
            for p in history.positives:
                assert p.added.date() <= history.cutoff
                assert (
                    p.arxiv_id is None or when[p.arxiv_id].date() <= history.cutoff or p.source == "library"
                )
            assert all(when[n.arxiv_id].date() <= history.cutoff for n in history.negatives)
            assert all(d <= history.cutoff for d, _ in history.impressions)
            assert not {p.arxiv_id for p in history.positives} & set(pool)  # known papers leave the pool
        # The down-rating given on 03-05 is a negative from the next history on, never before.
        archive = _Archive(store, CATS)
        before, _ = history_until_day(archive, date(2026, 3, 4))
        after, _ = history_until_day(archive, date(2026, 3, 5))
        assert late_down not in {p.arxiv_id for p in before.negatives}
        assert late_down in {p.arxiv_id for p in after.negatives}
        assert late_down not in {p.arxiv_id for p in after.positives}


def test_library_items_join_the_history_by_their_date(tmp_path: Path) -> None:
    from paperradar.models import LibraryRecord

    with Store(tmp_path / "lib.db") as store:
        fill(store)
        store.library.save(
            [
                LibraryRecord(
                    key="old",
                    title="Dense retrieval",
                    abstract="dense retrieval",
                    authors=[],
                    added=datetime(2026, 1, 10, tzinfo=UTC),
                    source="bibtex",
                ),
                LibraryRecord(
                    key="new",
                    title="Late item",
                    abstract="added later",
                    authors=[],
                    added=datetime(2026, 3, 3, tzinfo=UTC),
                    source="bibtex",
                ),
            ]
        )
        archive = _Archive(store, CATS)
        early, counts = history_until_day(archive, date(2026, 3, 1))
        keys = {p.key for p in early.positives if p.source == "library"}
        assert keys == {"title:dense retrieval"} and counts["history_library"] == 1
        late, _ = history_until_day(archive, date(2026, 3, 3))
        assert {p.key for p in late.positives if p.source == "library"} == {
            "title:dense retrieval",
            "title:late item",
        }


def test_no_ratings_says_so(tmp_path: Path) -> None:
    with Store(tmp_path / "empty.db") as store:
        store.save_papers(paper for paper, _ in read_jsonl(LISTINGS))
        store.save_announcements(a for _, anns in read_jsonl(LISTINGS) for a in anns)
        own = evaluate_own(store, CATS, default_rankers(), weeks=4, until=UNTIL)
        assert own.report is None and own.message_key == "no_up_ratings"
        assert own.message == (
            "no up-ratings in the 4 weeks ending 2026-03-06: rate papers with `paperradar rate ID up` "
            "or the web UI's buttons"
        )
        assert own.as_dict()["summary"] == {}
        none = evaluate_own(store, CATS, default_rankers(), weeks=1, until=date(2026, 6, 30))
        assert none.message_key == "no_days" and none.counts["announcement_days"] == 0


def test_ratings_that_cannot_be_judged_say_why(tmp_path: Path) -> None:
    with Store(tmp_path / "odd.db") as store:
        store.save_papers(paper for paper, _ in read_jsonl(LISTINGS))
        store.save_announcements(a for _, anns in read_jsonl(LISTINGS) for a in anns)
        # Rated in the window, of a paper listed before it; and a reader of a category with no days.
        anns = store.announcements(date(2026, 2, 24), CATS)
        rate_at(store, anns[0].arxiv_id, 1, datetime(2026, 3, 5, 9, tzinfo=UTC))
        own = evaluate_own(store, ["cs.DB"], default_rankers(), weeks=1, until=UNTIL)
        assert own.message_key in ("no_days", "none_judged")
        own = evaluate_own(store, CATS, default_rankers(), weeks=1, until=UNTIL)
        assert own.message_key == "none_judged" and own.counts["up_listed_before_window"] == 1
        assert "listed before the window" in (own.message or "")


def test_panel_is_cached_by_its_inputs(store_path: Path, tmp_path: Path) -> None:
    cache = PanelCache(tmp_path / "panel.json")
    inputs = PanelInputs(CATS, PersonalConfig(), KeywordsConfig(), weeks=1, until=UNTIL)
    with Store(store_path) as store:
        first, hit = cached_panel(store, inputs, cache)
        assert not hit and first["rows"][0]["ranker"] == "paperradar" and first["judged_days"] >= 3
        again, hit = cached_panel(store, inputs, PanelCache(tmp_path / "panel.json"))  # from the file
        assert hit and again == first
        key = panel_key(store, inputs)
    with Store(store_path) as store:  # a new rating changes the key: the old figures are not shown
        rate_at(store, "2602.17667", -1, datetime(2026, 3, 6, 21, tzinfo=UTC))
        try:
            assert panel_key(store, inputs) != key
        finally:
            rate_at(store, "2602.17667", 1, datetime(2026, 3, 6, 21, 30, tzinfo=UTC))


# -- the command line -----------------------------------------------------------------------------------
def _config(tmp_path: Path, store_path: Path) -> Path:
    cfg = tmp_path / "paperradar.toml"
    cfg.write_text(
        f'[store]\npath = "{store_path}"\n[output]\nfolder = "{tmp_path / "out"}"\n', encoding="utf-8"
    )
    return cfg


def test_cli_eval_without_a_file(store_path: Path, tmp_path: Path) -> None:
    cfg = str(_config(tmp_path, store_path))
    code, out, _ = run_cli("--config", cfg, "eval", "--weeks", "1", "--until", "2026-03-06")
    assert code == 0
    assert "2026-02-28 .. 2026-03-06" in out and "paperradar" in out and "arxiv-sanity-lite" in out
    code, out, _ = run_cli("--config", cfg, "eval", "--weeks", "1", "--until", "2026-03-06", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["judged_days"] >= 3 and data["history"] == "week" and "paperradar" in data["summary"]
    # nothing to judge: a truthful message, exit 0 (the question was answered)
    code, out, _ = run_cli("--config", cfg, "eval", "--until", "2026-09-30")
    assert code == 0 and "no announcement days stored" in out
    # file-mode options without a file, and a file without its cutoff: usage errors
    assert run_cli("--config", cfg, "eval", "--train-until", "2026-02-27")[0] == 2
    assert (
        run_cli(
            "--config", cfg, "eval", "--picks", str(FIX / "picks.jsonl"), "--pools", str(FIX / "pools.jsonl")
        )[0]
        == 2
    )
    assert run_cli("--config", cfg, "eval", "--weeks", "0")[0] == 2


def test_cli_eval_with_no_ratings(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    with Store(db) as store:
        store.save_papers(paper for paper, _ in read_jsonl(LISTINGS))
        store.save_announcements(a for _, anns in read_jsonl(LISTINGS) for a in anns)
    code, out, _ = run_cli("--config", str(_config(tmp_path, db)), "eval", "--until", "2026-03-06")
    assert code == 0 and "no up-ratings in the 4 weeks ending 2026-03-06" in out
    assert "paperradar rate ID up" in out
