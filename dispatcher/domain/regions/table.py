"""The NBS 2023 region table (levels 1-4) shipped with the package, and lookups on it.

Keys are 12-digit code strings: RegionCode objects are only built for what a caller gets
back, which keeps loading ~45k rows well under a second.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from functools import cached_property
from importlib import resources

from dispatcher.domain.regions import cover
from dispatcher.domain.regions.errors import RegionError
from dispatcher.domain.regions.model import (
    CUTS,
    ROOT,
    CodeLike,
    Region,
    as_key,
    parent_key,
    significant_length,
)
from protocols.codes import RegionCode, RegionLevel
from protocols.errors import CodeError

DATA_FILE = "regions.tsv.gz"
ROOT_NAME = "全国"
# CAP areaDesc and people say either; both find the root.
ROOT_ALIASES = frozenset({ROOT_NAME, "中华人民共和国", "中国"})


class RegionTable:
    """Provinces, cities, counties and townships by code, with their names and children."""

    def __init__(self, rows: Iterable[tuple[str, str]]) -> None:
        """``rows`` are (NBS code of 2, 4, 6 or 9 digits, name)."""
        names: dict[str, str] = {ROOT: ROOT_NAME}
        townships: set[str] = set()
        for code, name in rows:
            if len(code) == 9:
                townships.add(code)
            # 东莞/中山/儋州 list a county xxxx00 and 金门 a township 350527000 that pad to
            # the code of the row above them: the first (higher) row keeps the node.
            names.setdefault(code.ljust(12, "0"), name)
        self._names = names
        self._townships = frozenset(townships)

    @cached_property
    def _children(self) -> dict[str, tuple[str, ...]]:
        # Built on first use: lookups by code or name, the common case, do not need it.
        children: dict[str, list[str]] = {}
        for key in self._names:
            parent = parent_key(key)
            if parent is None:
                continue
            if parent not in self._names:
                raise RegionError(f"region table is corrupt: {key} has no parent row {parent}")
            children.setdefault(parent, []).append(key)
        return {k: tuple(sorted(v)) for k, v in children.items()}

    @classmethod
    def load(cls) -> RegionTable:
        """Read the shipped gzip TSV (``code<TAB>name``; ``#`` lines are provenance)."""
        data = resources.files("dispatcher.domain.regions").joinpath("data", DATA_FILE)
        text = gzip.decompress(data.read_bytes()).decode("utf-8")
        rows = [line.split("\t", 1) for line in text.split("\n") if line and line[0] != "#"]
        return cls((code, name) for code, name in rows)

    def __len__(self) -> int:
        return len(self._names)

    def _is_village(self, key: str) -> bool:
        return significant_length(key) == 12 and key[:9] in self._townships

    def known_key(self, code: CodeLike) -> str:
        """The 12-digit key of a code the table knows, else RegionError (or CodeError)."""
        key = as_key(code)
        if key in self._names or self._is_village(key):
            return key
        if significant_length(key) == 12:
            raise RegionError(f"village {key}: its township {key[:9]} is not in the NBS 2023 table")
        raise RegionError(f"region code {key} is not in the NBS 2023 table")

    def _region(self, key: str) -> Region:
        code = RegionCode(key)
        return Region(code, self._names.get(key), code.level)

    def exists(self, code: CodeLike) -> bool:
        """Known to the table; a village counts when its township is known."""
        try:
            self.known_key(code)
        except (RegionError, CodeError):
            return False
        return True

    def get(self, code: CodeLike) -> Region:
        return self._region(self.known_key(code))

    def parents(self, code: CodeLike) -> list[Region]:
        """Ancestors province first, without the national root and without ``code`` itself."""
        chain: list[Region] = []
        node = parent_key(self.known_key(code))
        while node is not None and node != ROOT:
            chain.append(self._region(node))
            node = parent_key(node)
        chain.reverse()
        return chain

    def chain(self, code: CodeLike) -> list[Region]:
        """Province down to ``code`` itself."""
        return [*self.parents(code), self.get(code)]

    def children(self, code: CodeLike) -> list[Region]:
        """Direct children listed in the table (none for townships: villages are not listed)."""
        return [self._region(k) for k in self.child_keys(self.known_key(code))]

    def child_keys(self, key: str) -> tuple[str, ...]:
        return self._children.get(key, ())

    def contains(self, outer: CodeLike, inner: CodeLike) -> bool:
        """Both must be known; then it is the code-prefix rule, and reflexive."""
        return self.get(outer).code.contains(self.get(inner).code)

    def codes(self, level: RegionLevel | None = None) -> list[RegionCode]:
        """Every listed code (sorted), optionally of one level."""
        keys = sorted(self._names)
        if level is not None:
            cut = CUTS[int(level) - 1]
            keys = [k for k in keys if significant_length(k) == cut]
        return [RegionCode(k) for k in keys]

    def find(self, name: str, *, within: CodeLike | None = None) -> list[Region]:
        """Regions named exactly ``name`` first, then those whose name contains it."""
        text = name.strip()
        if not text:
            raise RegionError("a region name to look for is needed", code="invalid-input")
        prefix = self.get(within).code.significant if within is not None else ""
        exact: list[str] = []
        partial: list[str] = []
        for key, region_name in self._names.items():
            if not key.startswith(prefix):
                continue
            if region_name == text or (key == ROOT and text in ROOT_ALIASES):
                exact.append(key)
            elif text in region_name:
                partial.append(key)

        def order(key: str) -> tuple[int, str]:
            return (significant_length(key), key)

        return [self._region(k) for k in sorted(exact, key=order) + sorted(partial, key=order)]

    def normalise(self, codes: Iterable[CodeLike] | str) -> list[RegionCode]:
        return cover.normalise(self, codes)

    def minimal_cover(self, codes: Iterable[CodeLike] | str) -> list[RegionCode]:
        return cover.minimal_cover(self, codes)

    def intersect(
        self, codes: Iterable[CodeLike] | str, jurisdiction: CodeLike
    ) -> cover.Intersection:
        return cover.intersect(self, codes, jurisdiction)
