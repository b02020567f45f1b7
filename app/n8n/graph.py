"""Graph algorithms over a workflow, all iterative and linear: order, loops, islands."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from app.n8n.model import Edge, Workflow


@dataclass(frozen=True, slots=True)
class Link:
    """An edge whose both ends name existing nodes, as node indexes (first node of a name)."""

    source: int
    target: int
    edge: Edge


def links(workflow: Workflow) -> list[Link]:
    """Edges that resolve; dangling ones are left to the validator."""
    index = workflow.name_index
    resolved = []
    for edge in workflow.edges:
        source, target = index.get(edge.source), index.get(edge.target)
        if source is not None and target is not None:
            resolved.append(Link(source, target, edge))
    return resolved


def strongly_connected(count: int, successors: list[list[int]]) -> list[list[int]]:
    """Tarjan's algorithm without recursion; components listed in discovery order."""
    index_of = [-1] * count
    low = [0] * count
    on_stack = [False] * count
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(count):
        if index_of[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            node, child = work[-1]
            if child == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack[node] = True
            if child < len(successors[node]):
                work[-1] = (node, child + 1)
                nxt = successors[node][child]
                if index_of[nxt] == -1:
                    work.append((nxt, 0))
                elif on_stack[nxt]:
                    low[node] = min(low[node], index_of[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def loops(count: int, successors: list[list[int]]) -> list[list[int]]:
    """Node groups that form a cycle: components of two or more, or a node linked to itself."""
    found = []
    for component in strongly_connected(count, successors):
        if len(component) > 1 or component[0] in successors[component[0]]:
            found.append(component)
    return found


def topological_order(nodes: list[int], successors: list[list[int]]) -> list[int] | None:
    """Kahn's order over ``nodes`` (ties by index), or None when there is a cycle."""
    members = set(nodes)
    indegree = dict.fromkeys(nodes, 0)
    for node in nodes:
        for nxt in successors[node]:
            if nxt in members:
                indegree[nxt] += 1
    ready = deque(n for n in nodes if indegree[n] == 0)
    order = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for nxt in successors[node]:
            if nxt in members:
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    ready.append(nxt)
    return order if len(order) == len(nodes) else None


def islands(nodes: list[int], pairs: list[tuple[int, int]]) -> list[list[int]]:
    """Weakly connected groups of ``nodes`` (union-find), largest first."""
    parent = {n: n for n in nodes}

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in pairs:
        if a in parent and b in parent:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for n in nodes:
        groups.setdefault(find(n), []).append(n)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))
