"""Your own architecture in the Train lesson (AppTest, both languages): compose it (add and remove
blocks, change a kernel), read every layer's output shape and weights in the table (recomputed by
torch), an impossible network told before training, the link's ?arch= read back (and a tampered one
reported), training it and opening it in Inside a CNN; the whole training set's switch."""

import app_helpers
import pytest
import torch
from torch import nn

from cnnviz import ui
from cnnviz.data import datasets
from cnnviz.i18n import number, t
from cnnviz.models import builder

PAGE = "lessons/train.py"


def own(lang: str, query: dict | None = None):
    at = app_helpers.open_lesson(PAGE, lang)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.session_state["train.dataset"] = "fashion"
    at.session_state["train.network"] = "own"
    at.run()
    assert not at.exception
    return at


def table(at) -> dict:
    frame = next(d.value for d in at.dataframe if len(d.value.columns) == 4 and "flatten" in set(d.value.iloc[:, 0]))
    return {row[0]: tuple(row[1:]) for row in frame.itertuples(index=False)}


def torch_rows(text: str, lang: str) -> dict:
    """The same network in plain torch layers: each named layer's output (C × H × W) and weights."""
    model = builder.build(builder.parse(text), 1, 28, 10, seed=0).eval()
    x, rows = torch.zeros(1, 1, 28, 28), {}
    with torch.no_grad():
        for name, m in model.named_children():
            x = m(x)
            rows[name] = (" × ".join(str(v) for v in x.shape[1:]), number(sum(p.numel() for p in m.parameters()), lang))
    assert isinstance(model.conv1, nn.Conv2d)
    return rows


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_compose_a_network_and_read_its_layers(lang):
    at = own(lang)
    rows = table(at)
    expected = torch_rows("c32k3p1m2bn-c64k3p1m2bn-f128", lang)
    assert {k: v[1:] for k, v in rows.items()} == expected
    assert rows["pool2"][1] == "64 × 7 × 7"
    total = {m.label: m.value for m in at.metric}[t("train.total", lang)]
    assert total == number(421834, lang)                        # 28 x 28 digits network: 421,834 weights
    # a third block, with a 5 x 5 kernel: the table follows
    at.button(key="train.add_block").click().run()
    at.selectbox(key="train.b2.kernel").set_value(5).run()
    at.number_input(key="train.b2.channels").set_value(16).run()
    assert not at.exception
    text = "c32k3p1m2bn-c64k3p1m2bn-c16k5p1m2bn-f128"
    assert at.query_params["arch"] == text
    assert {k: v[1:] for k, v in table(at).items()} == torch_rows(text, lang)
    at.button(key="train.remove_block").click().run()
    assert "conv3" not in table(at)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_an_impossible_network_is_told_before_training(lang):
    at = own(lang, {"arch": "c8k7p0m3-c8k7p0m3"})
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "pool2" in errors and ("smaller than 1 × 1" if lang == "en" else "menor que 1 × 1") in errors
    assert not [b for b in at.button if b.key == "train.go"]        # nothing to train
    assert at.session_state["train.b1.pool"] == 3                  # the link's network is in the editor


def test_a_tampered_link_is_reported_and_the_default_used():
    at = own("pt_BR", {"arch": "c8k3p1-<script>"})
    assert not at.exception
    assert any("arch=" in w.value for w in at.warning)             # app.link_bad, in Portuguese
    assert at.session_state["train.blocks"] == 2 and "conv2" in table(at)


@pytest.mark.slow
@pytest.mark.skipif(not datasets.source("fashion"), reason="no Fashion-MNIST, not even its sample")
def test_train_the_own_network_and_open_it_in_inside():
    at = own("en", {"arch": "c8k3p1m2bn-c8k3p1m2-f16"})
    at.select_slider(key="train.per_class").set_value(5)
    at.slider(key="train.epochs").set_value(1)
    at.run()
    at.button(key="train.go").click().run()
    assert not at.exception
    run = at.session_state["train.runs"][-1]
    assert run.experiment.arch == "c8k3p1m2bn-c8k3p1m2-f16"
    export = at.session_state["train.export"]
    assert export.card["layers"] == run.experiment.arch
    inside = app_helpers.open_lesson("lessons/inside_a_cnn.py", "en",
                                     state={"train.export": export, "model": ui.TRAINED})
    assert not at.exception and not inside.exception
    assert any(export.name in o for s in inside.selectbox if s.key == "model" for o in s.options)


def test_the_whole_training_set_switch():
    at = app_helpers.open_lesson(PAGE, "pt_BR")
    at.session_state["train.dataset"] = "mnist"
    at.run()
    assert not at.exception
    if datasets.source("mnist") == "full":
        assert [tg for tg in at.toggle if tg.key == "train.full"]
    else:     # hidden, with one line saying why
        assert not [tg for tg in at.toggle if tg.key == "train.full"]
        assert any(c.value == t("train.full_missing", "pt_BR", name=t("train.ds.mnist", "pt_BR")) for c in at.caption)
