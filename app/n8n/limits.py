"""Resource limits checked before any work is done on an upload."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds for one uploaded file; every default sits well above the real corpus.

    The corpus maxima (2,600 public exports) were 1.2 MB, nesting depth 16, 330 nodes,
    about 400 edges, 20 outputs on one node and a 154 kB Code node.
    """

    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 2_000
    max_edges: int = 20_000
    max_outputs: int = 256
    max_string: int = 1_000_000


DEFAULT_LIMITS = Limits()
