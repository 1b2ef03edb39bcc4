"""The softmax formula of "Inside a CNN" shows the predicted class and a remainder that adds up."""

import numpy as np
import pytest

from cnnviz.maths import layers

torch = pytest.importorskip("torch")

# the drawn 7 of issue 10: the old formula showed classes 0-4 and "...", hiding the 7
SEVEN = [-14.03, -2.31, -6.5, -3.2, -9.9, -7.7, -12.0, 19.16, -5.1, -1.4]


def test_the_predicted_class_is_always_shown_first():
    terms = layers.softmax_terms(SEVEN)
    assert terms.target == 7 and terms.shown[0] == 7
    # then the largest others, in order
    assert terms.shown[1:] == [9, 1, 3]
    assert terms.rest == [8, 2, 5, 4, 6, 0]


def test_shown_terms_plus_the_remainder_are_the_denominator():
    rng = np.random.default_rng(0)
    for n in (2, 3, 10, 1000):
        z = rng.normal(0, 5, size=n)
        for show in (1, 3, 4, 6):
            terms = layers.softmax_terms(z, show=show)
            full = np.exp(z).sum()
            assert terms.exps.sum() + terms.rest_sum == pytest.approx(full, rel=1e-12)
            assert terms.total == pytest.approx(full, rel=1e-12)
            assert len(terms.shown) + len(terms.rest) == n
            assert sorted(terms.shown + terms.rest) == list(range(n))
            assert terms.prob == pytest.approx(float(torch.softmax(torch.tensor(z), 0)[terms.target]))
            assert terms.exps[0] / terms.total == pytest.approx(terms.prob)


def test_another_class_can_be_written_out_and_stays_first():
    terms = layers.softmax_terms(SEVEN, target=4, show=3)
    assert terms.shown == [4, 7, 9] and 4 not in terms.rest
    assert terms.prob == pytest.approx(float(torch.softmax(torch.tensor(SEVEN), 0)[4]))


def test_few_classes_have_no_remainder():
    terms = layers.softmax_terms([1.0, 2.0], show=4)
    assert terms.shown == [1, 0] and terms.rest == [] and terms.rest_sum == 0.0
