"""The typed workflow model the parser builds and every other module reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

STICKY_TYPE = "n8n-nodes-base.stickyNote"


@dataclass(frozen=True, slots=True)
class Finding:
    """One validation result; ``location`` is a JSON pointer into the uploaded document."""

    severity: Severity
    code: str
    message: str
    location: str

    def to_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "location": self.location,
        }


@dataclass(frozen=True, slots=True)
class CredentialRef:
    """A node's reference to a stored credential; ``inline`` marks a literal object in the file."""

    type: str
    id: str | None = None
    name: str | None = None
    inline: bool = False


@dataclass(slots=True)
class Node:
    index: int
    pointer: str
    name: str
    type: str
    type_version: float
    # None when the file's position was not two finite numbers.
    position: tuple[float, float] | None
    disabled: bool = False
    id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    credentials: tuple[CredentialRef, ...] = ()
    on_error: str | None = None
    webhook_id: str | None = None

    @property
    def is_sticky(self) -> bool:
        return self.type == STICKY_TYPE


@dataclass(frozen=True, slots=True)
class Edge:
    """One connection: ``kind`` is the key it sits under (the source's output type)."""

    source: str
    kind: str
    output: int
    target: str
    target_kind: str
    input: int
    pointer: str


@dataclass(slots=True)
class Workflow:
    nodes: list[Node]
    edges: list[Edge]
    # Pointer of the workflow object inside the document ("" unless unwrapped).
    pointer: str = ""
    name: str | None = None
    id: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    pin_data: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    # Problems the parser tolerated (skipped edges, odd positions); validate() reports them.
    problems: list[Finding] = field(default_factory=list)
    # The whole decoded document, for the secret scanner and redaction.
    document: Any = None

    # Name -> index of the first node with that name (n8n resolves connections by name).
    name_index: dict[str, int] = field(default_factory=dict)

    def node_named(self, name: str) -> Node | None:
        index = self.name_index.get(name)
        return None if index is None else self.nodes[index]

    @property
    def active_nodes(self) -> list[Node]:
        """Nodes that take part in the flow (sticky notes excluded)."""
        return [n for n in self.nodes if not n.is_sticky]
