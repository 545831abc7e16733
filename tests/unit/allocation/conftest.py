"""Fixtures of the allocation tests (the network itself is in `allocation_network`)."""

from __future__ import annotations

import pytest
from allocation_network import make_network

from allocation.model import Network


@pytest.fixture(scope="session")
def network() -> Network:
    return make_network()
