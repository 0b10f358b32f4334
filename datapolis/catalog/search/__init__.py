"""Chinese full-text search over the catalog, with facets.

analyzer (jieba segmentation) → documents (what is indexed) → index (in memory, numpy) ←
live (kept current from the registry) ← sync (tokens written on every entry change) ;
service.search_entries is what pages and the API call.
"""

from datapolis.catalog.search import sync
from datapolis.catalog.search.entries import FACETS
from datapolis.catalog.search.service import EntryHit, FacetValue, SearchPage, search_entries

sync.install()

__all__ = ["FACETS", "EntryHit", "FacetValue", "SearchPage", "search_entries"]
