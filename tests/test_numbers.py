"""One reader for a decimal a learner types (cnnviz.base.numbers), used by kernels, 1D kernels and the
self-check answers."""

import math

import pytest

from cnnviz.maths import kernels, signals
from cnnviz.base import numbers
from cnnviz.exercises import parse_number


@pytest.mark.parametrize("text, value", [("0,5", 0.5), ("0.5", 0.5), ("-1,5e3", -1500.0), (".5", 0.5),
                                         (",25", 0.25), ("\u22122", -2.0), (" +3 ", 3.0), ("7.", 7.0)])
def test_both_formats_read_the_same(text, value):
    assert numbers.read_decimal(text) == value
    assert kernels.parse_value(text, "bias") == value                 # a bias typed in the lesson
    assert parse_number(text) == value                                # a self-check answer


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "1.2.3", "1 5", "e3", "--1", "0x10", "1_000", "½"])
def test_what_is_not_one_number_is_refused(text):
    assert numbers.read_decimal(text) is None


def test_not_finite_reads_as_such_so_callers_say_so():
    assert math.isnan(numbers.read_decimal("NaN")) and numbers.read_decimal("-inf") == -math.inf
    assert numbers.read_decimal("1e999") == math.inf
    assert not numbers.bounded(numbers.read_decimal("nan")) and not numbers.bounded(2e6)
    assert numbers.bounded(-1e6) and not numbers.bounded(None)


def test_a_1d_kernel_reads_its_entries_with_the_same_reader_and_fractions_on_top():
    assert signals.parse_kernel("0,5 \u22121,5e1").tolist() == [0.5, -15.0]
    assert signals.parse_kernel("1/3 1/3 1/3").tolist() == pytest.approx([1 / 3] * 3)
    assert signals.parse_kernel("0.5/2 -1/4").tolist() == [0.25, -0.25]
    for bad in ("1/0", "1/", "/2"):
        with pytest.raises(signals.SignalError):
            signals.parse_kernel(bad)
