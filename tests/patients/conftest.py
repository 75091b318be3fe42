"""Fixtures of the prescriber workflow tests (helpers live in prescriber_flow.py)."""

import pytest
import time_machine
from prescriber_flow import include


@pytest.fixture
def frozen():
    """Time frozen on 2 June 2014 (2014 version in force)."""
    with time_machine.travel("2014-06-02 10:00:00+00:00", tick=False) as traveller:
        yield traveller


@pytest.fixture
def alice_patient(alice, frozen):
    return include(alice)


@pytest.fixture
def bob_patient(bob, frozen):
    return include(bob)
