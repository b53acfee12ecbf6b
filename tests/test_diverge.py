"""gradschool.diverge: a loss that turns NaN or blows up stops training with advice, never silently."""

import math

import pytest

from gradschool.diverge import TrainingDiverged, check_finite, check_loss


def test_check_finite_refuses_nan_and_inf_with_advice():
    check_finite(2.5, step=3)
    for bad in [math.nan, math.inf, -math.inf]:
        with pytest.raises(TrainingDiverged, match=r"step 7.*learning rate \(it is 0\.5; try 0\.05"):
            check_finite(bad, step=7, lr=0.5)


def test_check_loss_catches_a_blow_up_before_it_becomes_nan():
    check_loss(5.0, step=1, first_loss=1.0)
    with pytest.raises(TrainingDiverged, match=r"blew up to 1e\+04 at step 2.*lower the learning rate"):
        check_loss(1e4, step=2, first_loss=1.0)
    with pytest.raises(TrainingDiverged, match="nan"):
        check_loss(math.nan, step=2, first_loss=1.0)
