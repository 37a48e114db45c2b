"""A lifecycle as a picture: Mermaid text for the Prefect UI (deployment descriptions are
markdown) and a small SVG drawn here for the portal, which runs on closed networks (no script,
no CDN, no Graphviz).

The SVG's layout is the page's own order: steps top to bottom, the step below joined by a straight
arrow, a jump forward drawn on the right, a way back on the left, each in a lane of its own. "back"
(the handoff step last gone through) leads to every handoff step, dashed.
"""

from dataclasses import dataclass
from html import escape

from models.tickets.lifecycle import BACK, LifecycleSpec, StepKind

BOX_W, BOX_H, ROW, LANE, TOP = 200, 38, 66, 16, 16
LEFT = 150  # room for the lanes of the ways back


@dataclass
class Edge:
    source: int
    target: int
    label: str
    dashed: bool


def edges(spec: LifecycleSpec) -> list[Edge]:
    """Every way between steps, one per (from, to) with the outcomes that take it."""
    index = {s.key: i for i, s in enumerate(spec.steps)}
    handoffs = [i for i, s in enumerate(spec.steps) if s.kind == StepKind.handoff]
    found: dict[tuple[int, int, bool], list[str]] = {}
    for i, step in enumerate(spec.steps):
        for outcome in step.outcomes():
            transition = spec.transition(step, outcome)
            if transition is None:
                continue
            label = "" if outcome == "完成" else outcome
            targets = [(transition.to, label)]
            if transition.then is not None:
                targets.append((transition.then, f"{label}超过{transition.at_most}次"))
            for target, text in targets:
                for j in (handoffs if target == BACK else [index[target]]):
                    found.setdefault((i, j, target == BACK), []).append(text)
    return [Edge(i, j, "、".join(t for t in dict.fromkeys(texts) if t), dashed)
            for (i, j, dashed), texts in found.items()]


def mermaid(spec: LifecycleSpec) -> str:
    """The flowchart as Mermaid text (a fenced block renders where Mermaid is available)."""
    lines = ["flowchart TD"]
    for step in spec.steps:
        shape = ('(["', '"])') if step.kind == StepKind.close else \
            ('{{"', '"}}') if step.kind == StepKind.branch else ('["', '"]')
        lines.append(f"  {step.key}{shape[0]}{_quoted(step.title)}{shape[1]}")
    for edge in edges(spec):
        arrow = "-.->" if edge.dashed else "-->"
        label = f'|"{_quoted(edge.label)}"|' if edge.label else ""
        lines.append(f"  {spec.steps[edge.source].key} {arrow}{label} "
                     f"{spec.steps[edge.target].key}")
    return "\n".join(lines)


def description(spec: LifecycleSpec) -> str:
    """A lifecycle deployment's description (markdown): its title, version and flowchart."""
    return (f"{spec.title}工单流程（版本 {spec.version}）\n\n```mermaid\n{mermaid(spec)}\n```\n")


def _quoted(text: str) -> str:
    return text.replace('"', "#quot;")


def svg(spec: LifecycleSpec, current: str | None = None, done: frozenset[str] = frozenset()) -> str:
    """The flowchart as SVG; `current` (a step key) is marked, steps in `done` shaded."""
    all_edges = edges(spec)
    right = [e for e in all_edges if e.target > e.source + 1]
    left = [e for e in all_edges if e.target <= e.source]
    width = LEFT + BOX_W + LANE * (len(right) + 1) + 120
    height = TOP * 2 + ROW * len(spec.steps)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle-diagram" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(spec.title)}流程图" font-size="12">',
             '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
             'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker>'
             '</defs>']
    for edge in all_edges:
        if edge.target == edge.source + 1:
            parts.append(_straight(edge))
    parts += [_lane(e, n, +1) for n, e in enumerate(right)]
    parts += [_lane(e, n, -1) for n, e in enumerate(left)]
    for i, step in enumerate(spec.steps):
        parts.append(_box(i, step.key, step.title, step.key == current, step.key in done))
    parts.append("</svg>")
    return "\n".join(parts)


def _top(i: int) -> int:
    return TOP + i * ROW


def _line(points: list[tuple[int, int]], dashed: bool) -> str:
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    path = " ".join(f"{x},{y}" for x, y in points)
    return (f'<polyline points="{path}" fill="none" stroke="#555"{dash} '
            f'marker-end="url(#arrow)"/>')


def _label(x: int, y: int, text: str, anchor: str = "start") -> str:
    return (f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="#333">{escape(text)}</text>'
            if text else "")


def _straight(edge: Edge) -> str:
    x = LEFT + BOX_W // 2
    y0, y1 = _top(edge.source) + BOX_H, _top(edge.target)
    return _line([(x, y0), (x, y1)], edge.dashed) + _label(x + 6, (y0 + y1) // 2 + 4, edge.label)


def _lane(edge: Edge, n: int, side: int) -> str:
    """A jump drawn beside the column: out of the source's side, along lane n, into the target."""
    edge_x = LEFT + BOX_W if side > 0 else LEFT
    lane_x = edge_x + side * LANE * (n + 1)
    y0 = _top(edge.source) + 10 + (n % 3) * 9
    y1 = _top(edge.target) + BOX_H - 10 - (n % 3) * 9
    line = _line([(edge_x, y0), (lane_x, y0), (lane_x, y1), (edge_x, y1)], edge.dashed)
    anchor = "start" if side > 0 else "end"
    return line + _label(lane_x + side * 3, y0 - 2, edge.label, anchor)


def _box(i: int, key: str, title: str, current: bool, done: bool) -> str:
    fill, stroke, width = ("#fde68a", "#b45309", 3) if current else \
        ("#dcfce7", "#15803d", 1) if done else ("#f8fafc", "#475569", 1)
    y = _top(i)
    mark = ' data-current="true"' if current else ""
    text = f"{title}（当前）" if current else title
    return (f'<g class="step" data-step="{escape(key)}"{mark}>'
            f'<rect x="{LEFT}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{width}"/>'
            f'<text x="{LEFT + BOX_W // 2}" y="{y + BOX_H // 2 + 4}" text-anchor="middle" '
            f'fill="#111">{escape(text)}</text></g>')
