"""The generated scorecards quote the parameter set they were made with: after any change of
data/parameters.yaml they must be regenerated, or the figures in the docs would describe a
model that no longer exists."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
GENERATORS = {
    "validation.md": "immunoreset validate --seed 1",
    "held_out_checks.md": "python examples/checks/run_all.py",
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generated_scorecard_matches_the_current_parameters(params, name):
    text = (DOCS / name).read_text(encoding="utf-8")
    found = re.search(r"parameters sha256 `([0-9a-f]{12})`", text)
    assert found, f"docs/{name} does not state its parameter hash"
    assert found.group(1) == params.sha256[:12], (
        f"docs/{name} was generated with parameters {found.group(1)}, the current set is "
        f"{params.sha256[:12]}: regenerate it with `{GENERATORS[name]}`")
