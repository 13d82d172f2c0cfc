"""Library import: BibTeX (Zotero, Google Scholar, Mendeley), CSL-JSON, id lists; resolution and storage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperradar.errors import DataError
from paperradar.models import Paper
from paperradar.rank.personal.bibtex import parse_bibtex
from paperradar.rank.personal.library import (
    LibraryItem,
    find_arxiv_id,
    import_library,
    items_from_id_list,
    latex_to_text,
    normalize_title,
    read_library_file,
    resolve_items,
)
from paperradar.sources import read_jsonl
from paperradar.store import Store

FIX = Path(__file__).parent / "fixtures" / "personal"


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "lib.db") as s:
        papers = [p for p, _ in read_jsonl(FIX / "listings-cs-ir-sample.jsonl.gz")]
        s.save_papers(papers)
        yield s


class FakeAPI:
    """Stands in for paperradar.sources.ArxivAPI: records calls, knows a few papers."""

    def __init__(self, known: dict[str, Paper]):
        self.known = known
        self.calls: list[list[str]] = []

    def lookup(self, ids: list[str]) -> tuple[list[Paper], list[str]]:
        self.calls.append(list(ids))
        return [self.known[i] for i in ids if i in self.known], [i for i in ids if i not in self.known]


def test_zotero_bibtex_fields_and_ids() -> None:
    items = read_library_file(FIX / "zotero-export.bib")
    by_title = {i.title: i for i in items}
    assert len(items) == 6
    attention = by_title["Attention Is All You Need"]  # braces stripped from the title
    assert attention.arxiv_id == "1706.03762"
    assert attention.authors[:2] == ["Ashish Vaswani", "Noam Shazeer"]  # "Last, First" turned around
    assert attention.added == datetime(2026, 1, 12, tzinfo=UTC)  # urldate: when it was saved
    assert attention.abstract.startswith("The dominant sequence transduction models")
    colbert = next(i for i in items if i.title.startswith("ColBERT"))
    assert colbert.arxiv_id == "2004.12832"  # eprint + archivePrefix, although url/doi are ACM's
    book = by_title["Introduction to Information Retrieval"]
    assert book.arxiv_id is None and "Hinrich Schütze" in book.authors  # {\"u} -> ü
    assert next(i for i in items if i.title.startswith("GrIT")).arxiv_id == "2602.19728"


def test_scholar_and_mendeley_bibtex() -> None:
    items = {i.title: i for i in read_library_file(FIX / "scholar-mendeley.bib")}
    bert = items["Bert: Pre-training of deep bidirectional transformers for language understanding"]
    assert bert.arxiv_id == "1810.04805"  # only in journal = {arXiv preprint arXiv:...}
    dpr = items["Dense Passage Retrieval for Open-Domain Question Answering"]
    assert dpr.arxiv_id == "2004.04906"
    assert "Barlas Oğuz" in dpr.authors  # {\u{g}}
    assert dpr.added == datetime(2025, 11, 3, tzinfo=UTC)  # Mendeley's timestamp


def test_csl_json() -> None:
    items = read_library_file(FIX / "zotero-export.json")
    assert [i.arxiv_id for i in items] == ["2602.18759", None, "1706.03762"]
    assert items[0].authors == ["Chen Chen", "Haobo Lin", "Yuanbo Xu"]
    assert items[0].added == datetime(2026, 2, 26, tzinfo=UTC)  # accessed


def test_id_list() -> None:
    items = read_library_file(FIX / "arxiv-ids.txt")
    assert [i.arxiv_id for i in items] == ["2602.18283", "2602.19728", "1706.03762", "2004.12832"]
    assert items_from_id_list("hep-th/9901001v2\n# 2401.00001\n") == [
        LibraryItem(title="", arxiv_id="hep-th/9901001")
    ]


def test_unreadable_files(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("just some words\n", encoding="utf-8")
    with pytest.raises(DataError, match="neither BibTeX"):
        read_library_file(bad)
    with pytest.raises(DataError, match="does not exist"):
        read_library_file(tmp_path / "missing.bib")
    broken = tmp_path / "lib.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(DataError, match="not valid JSON"):
        read_library_file(broken)


def test_bibtex_parser_edge_cases() -> None:
    text = """@string{conf = "SIGIR"}
    @comment{ignore {this} }
    @InProceedings(key1, title = "A {Nested {Brace}} Title", booktitle = conf # " 2024", month = mar,)
    junk between entries
    @article{key2, title={Second}, eprint={1234.56789}, archivePrefix={arXiv}}"""
    entries = parse_bibtex(text)
    assert [(k, key) for k, key, _ in entries] == [("inproceedings", "key1"), ("article", "key2")]
    fields = entries[0][2]
    assert latex_to_text(fields["title"]) == "A Nested Brace Title"
    assert fields["booktitle"] == "SIGIR 2024" and fields["month"] == "3"
    assert find_arxiv_id(entries[1][2]) == "1234.56789"


def test_find_arxiv_id_sources() -> None:
    assert find_arxiv_id({"doi": "10.48550/arXiv.2401.01234"}) == "2401.01234"
    assert find_arxiv_id({"url": "https://arxiv.org/pdf/2401.01234v3"}) == "2401.01234"
    assert find_arxiv_id({"note": "arXiv: 2401.01234 [cs.IR]"}) == "2401.01234"
    assert find_arxiv_id({"eprint": "2401.01234", "archiveprefix": "arXiv"}) == "2401.01234"
    # a PubMed-style eprint is not an arXiv id
    assert find_arxiv_id({"eprint": "12345678", "archiveprefix": "PubMed"}) is None
    assert find_arxiv_id({"doi": "10.1145/3397271.3401075"}) is None


def test_normalize_title() -> None:
    assert normalize_title("{BERT}: Pre-Training of  Deep--Bidirectional") == normalize_title(
        "BERT: pre-training of deep bidirectional"
    )
    assert normalize_title('Sch{\\"u}tze') == "schutze"


def test_resolve_by_id_title_api_and_keep_non_arxiv(store: Store) -> None:
    items = read_library_file(FIX / "zotero-export.bib")
    attention = Paper(
        "1706.03762", "Attention Is All You Need", ["Ashish Vaswani"], "Transformer.", source="api"
    )
    api = FakeAPI({"1706.03762": attention})
    resolved, report = resolve_items(items, store, api)
    by_id = {i.arxiv_id: i for i in resolved}
    # HyTRec has no id in the export: found in the store by its title
    assert by_id["2602.18283"].resolved_by == "store-title"
    assert by_id["2602.19728"].resolved_by == "id" and by_id["2602.19728"].abstract  # filled from the store
    # one batched look-up for everything the store lacks; what the API lacks is reported
    assert api.calls == [["1706.03762", "2004.12832"]]
    assert by_id["1706.03762"].resolved_by == "api" and store.get_paper("1706.03762") is not None
    assert report.missing_on_api == ["2004.12832"]
    assert by_id["2004.12832"].title.startswith("ColBERT")  # kept with the export's own text
    assert report.not_on_arxiv == 2 and report.resolved_by_title == 1
    book = next(i for i in resolved if i.arxiv_id is None and "Introduction" in i.title)
    assert book.key == "title:introduction to information retrieval"


def test_resolve_without_api_keeps_items(store: Store) -> None:
    resolved, report = resolve_items(read_library_file(FIX / "arxiv-ids.txt"), store, None)
    assert len(resolved) == 4 and report.fetched_from_api == 0
    unknown = next(i for i in resolved if i.arxiv_id == "1706.03762")
    assert unknown.title == "1706.03762"  # nothing describes it yet: its id stands in


def test_near_title_is_not_claimed(store: Store) -> None:
    item = LibraryItem(title="HyTRec: A Hybrid Temporal-Aware Attention Architecture")  # a prefix only
    resolved, _ = resolve_items([item], store)
    assert resolved[0].arxiv_id is None


def test_import_library_stores_and_reimport_is_idempotent(store: Store) -> None:
    files = [FIX / "zotero-export.bib", FIX / "zotero-export.json"]
    resolved, report = import_library(store, files)
    lib = store.library
    count = lib.count()
    assert count == len(resolved) and report.duplicates >= 2  # Attention and BM25 are in both files
    attention = next(i for i in lib.items() if i.arxiv_id == "1706.03762")
    assert attention.added == datetime(2026, 1, 12, tzinfo=UTC)
    import_library(store, files)
    assert lib.count() == count
    assert [i.key for i in lib.items(until=datetime(2026, 2, 1).date())] == ["arxiv:1706.03762"]
