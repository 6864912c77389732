from __future__ import annotations

import pytest

from dispatcher.domain.regions import CountyShapes, RegionTable, county_shapes, region_table


@pytest.fixture(scope="session")
def table() -> RegionTable:
    return region_table()


@pytest.fixture(scope="session")
def shapes() -> CountyShapes:
    return county_shapes()
