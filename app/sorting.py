"""The orders shoppers can sort by, defined once for catalog lists and search."""

from __future__ import annotations

# key -> label, in the order the sort menus show them.
SORT_LABELS: dict[str, str] = {
    "relevance": "Best match",
    "popular": "Most popular",
    "newest": "Newest",
    "rating": "Top rated",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
}
# A list without a query (a category, a store) has nothing to rank by relevance.
LIST_SORTS: dict[str, str] = {
    key: label for key, label in SORT_LABELS.items() if key != "relevance"
}
