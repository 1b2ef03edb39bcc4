"""figures.curves_figure is built once per curves, labels and language, and carries the language's separators."""

import numpy as np

from cnnviz import figures, i18n


def _curves(**kw):
    fractions = np.linspace(0, 1, 11)
    return figures.curves_figure(fractions, 1 - fractions, fractions ** 2, names=("Deletion", "Insertion"),
                                 xtitle="pixels changed", ytitle="probability of 7", **kw)


def test_the_same_curves_are_one_shared_figure():
    assert _curves() is _curves()


def test_the_language_is_part_of_the_key_and_sets_the_separators():
    with i18n.language("en"):
        en = _curves()
    with i18n.language("pt_BR"):
        pt = _curves()
    assert en is not pt
    assert en.layout.separators == ".," and pt.layout.separators == ",."     # 0.5 / 0,5 on the axes


def test_different_curves_are_different_figures():
    fractions = np.linspace(0, 1, 11)
    other = figures.curves_figure(fractions, fractions, fractions, names=("Deletion", "Insertion"),
                                  xtitle="pixels changed", ytitle="probability of 7")
    assert other is not _curves()
    assert list(other.data[0].y) == list(fractions)
