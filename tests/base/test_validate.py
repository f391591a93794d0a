"""Tests for nma_bayes.base.validate: resolve_direction (the one rule for the benefit
direction), check_choice and check_nonnegative."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from nma_bayes.base.errors import ModelSpecError
from nma_bayes.base.validate import check_choice, check_nonnegative, resolve_direction


def net(direction):
    """A stand-in network recording a direction (only ``lower_is_better`` is read)."""
    return SimpleNamespace(lower_is_better=direction)


@pytest.mark.parametrize("required", [False, True])
@pytest.mark.parametrize("recorded", [None, True, False])
@pytest.mark.parametrize("given", [True, False])
def test_explicit_direction_wins(given, recorded, required):
    assert resolve_direction(given, net(recorded), required=required) is given


@pytest.mark.parametrize("required", [False, True])
@pytest.mark.parametrize("recorded", [True, False])
def test_falls_back_to_the_network(recorded, required):
    assert resolve_direction(None, net(recorded), required=required) is recorded


@pytest.mark.parametrize("network", [net(None), None, object()])
def test_unknown_direction_is_none_when_not_required(network):
    assert resolve_direction(None, network, required=False) is None


@pytest.mark.parametrize("network", [net(None), None])
def test_unknown_direction_raises_when_required(network):
    with pytest.raises(ModelSpecError, match="lower_is_better=True") as err:
        resolve_direction(None, network, required=True)
    assert err.value.rule == "bad-option"
    assert "network" in str(err.value)


def test_numpy_bool_becomes_bool():
    out = resolve_direction(np.bool_(True), None, required=True)
    assert out is True


@pytest.mark.parametrize("bad", [1, 0, "yes", "True", 1.0])
def test_non_boolean_refused(bad):
    with pytest.raises(ModelSpecError, match="True or False") as err:
        resolve_direction(bad, net(True), required=False)
    assert err.value.rule == "bad-option"


def test_real_network_direction():
    from nma_bayes.data.network import Network
    from nma_bayes.datasets import load_dataset

    df = load_dataset("parkinsons")
    assert resolve_direction(None, Network.from_data(contrasts=df), required=False) is None
    recorded = Network.from_data(contrasts=df, lower_is_better=True)
    assert resolve_direction(None, recorded, required=True) is True
    assert resolve_direction(False, recorded, required=True) is False


def test_check_choice():
    assert check_choice("b", "method", ("a", "b")) == "b"
    for bad in ("c", "B", None, 1, ("a",)):
        with pytest.raises(ModelSpecError, match="method must be one of 'a', 'b'") as err:
            check_choice(bad, "method", ("a", "b"))
        assert err.value.rule == "bad-option"


def test_check_nonnegative():
    assert check_nonnegative(0, "tau") == 0.0 and isinstance(check_nonnegative(0, "tau"), float)
    assert check_nonnegative(np.float32(0.5), "tau") == 0.5
    assert check_nonnegative(None, "tau", allow_none=True) is None
    for bad in (-1e-9, float("inf"), float("nan"), True, "0.2", None):
        with pytest.raises(ModelSpecError, match="tau must be a finite number >= 0") as err:
            check_nonnegative(bad, "tau")
        assert err.value.rule == "bad-option"
