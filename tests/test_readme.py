"""Every GraphQL example in the README runs as shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Stack

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("query", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs_without_errors(gateway: Stack, query: str) -> None:
    data = gateway.data(query)
    assert data
    assert all(value is not None for value in data.values()), data
