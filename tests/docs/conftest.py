import pytest

from localserver import LocalServer


@pytest.fixture
def server():
    running = LocalServer()
    yield running
    running.stop()
