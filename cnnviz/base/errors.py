"""Errors a learner can act on, in their own language.

Every error cnnviz raises for bad input carries a catalog key and its
parameters, so the page can show ``err.message(lang)`` in the learner's
language; ``str(err)`` is the English text (for logs, notebooks and tests).
"""

from __future__ import annotations

from cnnviz.i18n import t


class CnnvizError(ValueError):
    """Base class: bad input described by an i18n key plus parameters."""

    def __init__(self, key: str, **params):
        self.key = key
        self.params = params
        super().__init__(t(key, "en", **params))

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.params)
