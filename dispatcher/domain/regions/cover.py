"""Set operations on target areas: validate, shrink to a minimal cover, narrow to a jurisdiction.

"Covers" is judged on the table: a node equals the union of its listed children, so a
complete set of children is replaced by the parent. Villages are not listed, so a township
never rolls up from villages, and a village is only absorbed by a code containing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dispatcher.domain.regions.errors import RegionError
from dispatcher.domain.regions.model import ROOT, CodeLike, parent_key, significant_length
from protocols.codes import RegionCode
from protocols.errors import CodeError

if TYPE_CHECKING:
    from dispatcher.domain.regions.table import RegionTable

_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class Intersection:
    """Targets narrowed to a jurisdiction, and the targets that fell wholly outside it."""

    codes: list[RegionCode]
    dropped: list[RegionCode]


def _keys(table: RegionTable, codes: Iterable[CodeLike] | str) -> set[str]:
    items: Iterable[CodeLike] = (
        [c for c in _SEPARATORS.split(codes) if c] if isinstance(codes, str) else codes
    )
    keys: set[str] = set()
    problems: list[str] = []
    for item in items:
        try:
            keys.add(table.known_key(item))
        except (RegionError, CodeError) as exc:
            problems.append(exc.message)
    if problems:
        raise RegionError("; ".join(problems))
    return keys


def normalise(table: RegionTable, codes: Iterable[CodeLike] | str) -> list[RegionCode]:
    """Validated (every code known), deduplicated, sorted. A string may list codes
    separated by commas or whitespace, as CAP geocodes and EBM AreaCode do."""
    return [RegionCode(k) for k in sorted(_keys(table, codes))]


def _without_contained(keys: set[str]) -> set[str]:
    def inside_another(key: str) -> bool:
        node = parent_key(key)
        while node is not None:
            if node in keys:
                return True
            node = parent_key(node)
        return False

    return {k for k in keys if not inside_another(k)}


def minimal_cover(table: RegionTable, codes: Iterable[CodeLike] | str) -> list[RegionCode]:
    """The fewest table nodes whose union equals the union of ``codes``; sorted."""
    present = _without_contained(_keys(table, codes))
    changed = True
    while changed:
        changed = False
        parents = {parent_key(k) for k in present if k != ROOT}
        # Deepest first, so a roll-up can complete its own parent in the same pass.
        for parent in sorted(
            (p for p in parents if p is not None), key=significant_length, reverse=True
        ):
            kids = table.child_keys(parent)
            if kids and present.issuperset(kids):
                present.difference_update(kids)
                present.add(parent)
                changed = True
    return [RegionCode(k) for k in sorted(present)]


def intersect(
    table: RegionTable, codes: Iterable[CodeLike] | str, jurisdiction: CodeLike
) -> Intersection:
    """Targets inside the jurisdiction stay; a target containing it becomes the jurisdiction;
    the rest are reported in ``dropped``. Both lists are validated, deduplicated and sorted."""
    scope = table.get(jurisdiction).code
    kept: set[RegionCode] = set()
    dropped: list[RegionCode] = []
    for code in normalise(table, codes):
        if scope.contains(code):
            kept.add(code)
        elif code.contains(scope):
            kept.add(scope)
        else:
            dropped.append(code)
    return Intersection(codes=sorted(kept), dropped=dropped)
