"""The region picker's tree: the NBS table down to townships, then the villages that have
terminals in the inventory (the shipped table names no villages)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from dispatcher.domain.regions import region_table
from protocols.codes import RegionCode, RegionLevel

MAX_DEPTH = 4


@dataclass
class Node:
    code: str
    name: str
    level: str
    terminals: int = 0
    children: list[Node] = field(default_factory=list)


def build(region: str, terminal_regions: Iterable[str]) -> Node:
    table = region_table()
    counts = Counter(terminal_regions)
    villages: dict[str, list[str]] = {}
    for code in counts:
        if RegionCode(code).level is RegionLevel.VILLAGE:
            villages.setdefault(code[:9], []).append(code)

    def node(code: RegionCode, depth: int) -> Node:
        value = code.value
        here = Node(value, table.get(code).name or value, code.level.name.lower())
        prefix = code.significant
        here.terminals = sum(n for r, n in counts.items() if r.startswith(prefix))
        if code.level is RegionLevel.TOWNSHIP:
            here.children = [Node(v, v[9:], "village", counts[v])
                             for v in sorted(villages.get(value[:9], ()))]
        elif depth < MAX_DEPTH:
            here.children = [node(child.code, depth + 1) for child in table.children(code)]
        return here

    return node(RegionCode(region), 0)
