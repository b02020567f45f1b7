"""Canvas geometry as n8n's editor computes it: node boxes, handles and edge paths."""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field

from app.n8n.catalog import ai_ports, describe, roles, short_name
from app.n8n.graph import Link
from app.n8n.model import Node, Workflow
from app.n8n.validate import AI_CONNECTION_TYPES, main_inputs

# packages/frontend/editor-ui nodeViewUtils.ts: GRID_SIZE 16, DEFAULT_NODE_SIZE 96,
# CONFIGURATION_NODE_SIZE 80 (circle), configurable width 80 + 48 * (max(4, ports) - 1).
NODE_SIZE = 96.0
SUB_NODE_SIZE = 80.0
HANDLE_STEP = 32.0
PORT_STEP = 48.0
# Handles drawn per side; edges from higher outputs attach to the last one (FORMAT C6).
MAX_HANDLES = 64
# Empty stretches of canvas wider than this are shortened to it, so one far-away node
# does not shrink the rest of the preview to a dot.
MAX_GAP = 800.0
STICKY_DEFAULT = (240.0, 160.0)
STICKY_MIN = (150.0, 80.0)
STICKY_MAX = 4000.0
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

_OUTPUT_LABELS = {
    "if": ("true", "false"),
    "filter": ("kept", "discarded"),
    "compareDatasets": ("In A only", "Same", "Different", "In B only"),
}


@dataclass(slots=True)
class Box:
    node: Node
    x: float
    y: float
    w: float
    h: float
    shape: str  # default, trigger, circle, pill, configurable
    category: str
    inputs: int
    outputs: int
    ports: list[str] = field(default_factory=list)
    output_labels: list[str] = field(default_factory=list)

    def output_point(self, index: int) -> tuple[float, float]:
        count = max(1, self.outputs)
        index = min(index, count - 1)
        return self.x + self.w, self.y + self.h * (index + 1) / (count + 1)

    def input_point(self, index: int) -> tuple[float, float]:
        count = max(1, self.inputs)
        index = min(index, count - 1)
        return self.x, self.y + self.h * (index + 1) / (count + 1)

    def port_point(self, kind: str) -> tuple[float, float]:
        slot = self.ports.index(kind) if kind in self.ports else 0
        return self.x + 40 + PORT_STEP * slot, self.y + self.h

    def top_centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y


@dataclass(slots=True)
class StickyBox:
    node: Node
    x: float
    y: float
    w: float
    h: float
    colour: int | str


def boxes(workflow: Workflow, nodes: list[Node], resolved: list[Link]) -> list[Box]:
    """A box per node, sized from its type and its wiring, at its canvas position."""
    used_out: dict[int, int] = {}
    used_in: dict[int, int] = {}
    ai_in: dict[int, list[str]] = {}
    ai_out: set[int] = set()
    main_out: set[int] = set()
    for link in resolved:
        edge = link.edge
        if edge.kind == "main":
            used_out[link.source] = max(used_out.get(link.source, 0), edge.output + 1)
            main_out.add(link.source)
        elif edge.kind in AI_CONNECTION_TYPES:
            ai_out.add(link.source)
        if edge.target_kind == "main":
            used_in[link.target] = max(used_in.get(link.target, 0), edge.input + 1)
        elif edge.target_kind in AI_CONNECTION_TYPES:
            kinds = ai_in.setdefault(link.target, [])
            if edge.target_kind not in kinds:
                kinds.append(edge.target_kind)
    result = []
    for node in nodes:
        kind = describe(node.type)
        is_sub, configurable = roles(node.type)
        # Wiring settles mode-dependent types such as vector stores.
        if node.index in ai_out and node.index not in main_out:
            is_sub = True
        if node.index in ai_in:
            configurable = True
        ports = list(ai_ports(node.type)) if configurable else []
        for extra in ai_in.get(node.index, []):
            if extra not in ports:
                ports.append(extra)
        outputs = 0 if is_sub else _outputs(node, used_out.get(node.index, 0))
        inputs = (
            0 if is_sub or kind.is_trigger else max(main_inputs(node), used_in.get(node.index, 0))
        )
        outputs, inputs = min(outputs, MAX_HANDLES), min(inputs, MAX_HANDLES)
        height = NODE_SIZE + max(0, max(inputs, outputs, 1) - 2) * HANDLE_STEP
        width = NODE_SIZE
        shape = "trigger" if kind.is_trigger else "default"
        if configurable:
            width = 80 + PORT_STEP * (max(4, len(ports)) - 1)
            shape = "configurable"
        if is_sub:
            height = SUB_NODE_SIZE
            shape = "pill" if configurable else "circle"
            width = width if configurable else SUB_NODE_SIZE
        x, y = node.position or (0.0, 0.0)
        result.append(
            Box(
                node,
                x,
                y,
                width,
                height,
                shape,
                kind.category,
                inputs,
                outputs,
                ports[:MAX_HANDLES],
                _labels(node, outputs),
            )
        )
    _place_unpositioned(result)
    return result


def _outputs(node: Node, used: int) -> int:
    short = short_name(node.type)
    count = {"if": 2, "compareDatasets": 4}.get(short, 1)
    if short == "splitInBatches" and node.type_version >= 3:
        count = 2
    if short == "switch":
        rules = node.parameters.get("rules")
        values = rules.get("values") if isinstance(rules, dict) else None
        if isinstance(values, list):
            count = len(values) + (1 if _fallback_output(node) else 0)
    if node.on_error == "continueErrorOutput":
        count += 1
    return max(count, used)


def _fallback_output(node: Node) -> bool:
    options = node.parameters.get("options")
    return isinstance(options, dict) and options.get("fallbackOutput") == "extra"


def _labels(node: Node, outputs: int) -> list[str]:
    """Output names from a fixed vocabulary; parameter text (rule names) is never shown."""
    if outputs < 2:
        return []
    short = short_name(node.type)
    error = node.on_error == "continueErrorOutput"
    regular = outputs - (1 if error else 0)
    if short == "splitInBatches" and node.type_version >= 3:
        labels = ["done", "loop"]
    elif short in _OUTPUT_LABELS:
        labels = list(_OUTPUT_LABELS[short])
    elif short == "switch":
        labels = [str(i) for i in range(regular)]
        if _fallback_output(node) and regular:
            labels[-1] = "fallback"
    else:
        labels = [""] * regular
    labels = (labels + [""] * regular)[:regular]
    return labels + (["error"] if error else [])


def _place_unpositioned(result: list[Box]) -> None:
    """Nodes without a usable position go in a row under the others, in file order."""
    placed = [b for b in result if b.node.position is not None]
    floor = max((b.y + b.h for b in placed), default=0.0) + 160
    left = min((b.x for b in placed), default=0.0)
    step = 0.0
    for box in result:
        if box.node.position is None:
            box.x, box.y = left + step, floor
            step += box.w + 128


def stickies(nodes: list[Node]) -> list[StickyBox]:
    result = []
    for node in nodes:
        params = node.parameters
        width = _dimension(params.get("width"), STICKY_DEFAULT[0], STICKY_MIN[0])
        height = _dimension(params.get("height"), STICKY_DEFAULT[1], STICKY_MIN[1])
        colour = params.get("color", 1)
        if isinstance(colour, str) and _HEX_COLOUR.fullmatch(colour):
            chosen: int | str = colour.lower()
        elif isinstance(colour, int) and not isinstance(colour, bool) and 1 <= colour <= 7:
            chosen = colour
        else:
            chosen = 1
        x, y = node.position or (0.0, 0.0)
        result.append(StickyBox(node, x, y, width, height, chosen))
    return result


def _dimension(value: object, default: float, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return max(minimum, min(STICKY_MAX, float(value)))


def compress_gaps(items: list[Box | StickyBox]) -> None:
    """Shorten empty canvas stretches wider than MAX_GAP, on both axes, in place."""
    for axis, size in (("x", "w"), ("y", "h")):
        spans = sorted((getattr(i, axis), getattr(i, axis) + getattr(i, size)) for i in items)
        starts: list[float] = []
        shifts: list[float] = []
        shift = 0.0
        end = -math.inf
        for start, stop in spans:
            if start > end + MAX_GAP and end != -math.inf:
                shift += start - end - MAX_GAP
            if start > end:
                starts.append(start)
                shifts.append(shift)
            end = max(end, stop)
        if shift == 0.0:
            continue
        for item in items:
            at = bisect.bisect_right(starts, getattr(item, axis)) - 1
            setattr(item, axis, getattr(item, axis) - shifts[max(at, 0)])


def bezier(sx: float, sy: float, tx: float, ty: float) -> str:
    """Vue Flow's getBezierPath for a right-hand source and a left-hand target."""
    distance = tx - sx
    offset = 0.5 * distance if distance >= 0 else 0.25 * 25 * math.sqrt(-distance)
    return (
        f"M{_n(sx)} {_n(sy)}C{_n(sx + offset)} {_n(sy)} {_n(tx - offset)} {_n(ty)} "
        f"{_n(tx)} {_n(ty)}"
    )


def backward(sx: float, sy: float, tx: float, ty: float, floor: float) -> str:
    """A loop-back edge: out to the right, down under both nodes, across, and in from the left."""
    r, out = 16.0, 40.0
    right, left = sx + out, tx - out
    return (
        f"M{_n(sx)} {_n(sy)}H{_n(right - r)}Q{_n(right)} {_n(sy)} {_n(right)} {_n(sy + r)}"
        f"V{_n(floor - r)}Q{_n(right)} {_n(floor)} {_n(right - r)} {_n(floor)}"
        f"H{_n(left + r)}Q{_n(left)} {_n(floor)} {_n(left)} {_n(floor - r)}"
        f"V{_n(ty + r)}Q{_n(left)} {_n(ty)} {_n(left + r)} {_n(ty)}H{_n(tx)}"
    )


def vertical(sx: float, sy: float, tx: float, ty: float) -> str:
    """An AI edge from a sub-node's top up (or down) to its parent's bottom port."""
    offset = max(30.0, abs(sy - ty) / 2)
    return (
        f"M{_n(sx)} {_n(sy)}C{_n(sx)} {_n(sy - offset)} {_n(tx)} {_n(ty + offset)} "
        f"{_n(tx)} {_n(ty)}"
    )


def _n(value: float) -> str:
    """Coordinates with at most one decimal, never NaN or infinite, never ``-0``."""
    if not math.isfinite(value):
        return "0"
    rounded = round(value, 1)
    whole = int(rounded)
    return str(whole) if rounded == whole else f"{rounded:.1f}"


number = _n
