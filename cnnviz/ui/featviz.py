"""Feature visualization in Inside a CNN (``cnnviz.analysis.featviz``): the picture each channel
wants most, computed on a click through the server's line of heavy work (progress, Stop) and kept
once per (network, layer) for the whole class; the predict moment, several optima, two channels.

What is kept is small: a grid of 64 pictures of 28 x 28 is 50 KB (uint8), Tiny VGG's 64 of
32 x 32 x 3 is 196 KB, one ResNet-18 channel at 224 x 224 x 3 is 150 KB (about half a minute of
one core: never a whole grid there)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.base.kept import Kept
from .heavywork import heavy_memo
from .language import num, t
from .links import presenting
from .pictures import image

KEPT_BYTES = 32 << 20          # every class's grids and channels: a few hundred grids' worth
_PICTURES = Kept(max_bytes=KEPT_BYTES, size=lambda a: a.nbytes)
OPTIONS = 4                    # patterns offered in the predict moment
DIVERSE = 4                    # optima shown by "several optima"
LETTERS = "ABCD"


def _shared(loaded) -> bool:
    """A network every learner shares (bundled, ImageNet): its pictures are kept for the class.
    A learner's own network stays in their session."""
    return loaded.source in ("bundled", "zoo")


def _key(loaded, what: tuple) -> tuple:
    """The network (its name, its object and a fingerprint of its first weights: a ResNet-18 with
    random weights loaded again after the model cache dropped it is another network) and ``what``."""
    first = next(loaded.model.parameters()).detach().flatten()[:256]
    return (loaded.name, id(loaded.model), round(float(first.double().abs().sum()), 6), *what)


def _kept(loaded, what: tuple):
    """The pictures of ``what`` if computed already: kept for the class, or in this session."""
    key = _key(loaded, what)
    if _shared(loaded):
        found = _PICTURES.get(key)
        if found is not None:
            return found
    memo = st.session_state.get(f"inside.fv.{what[0]}")
    return memo[1] if memo is not None and memo[0] == key else None


def _pictures(loaded, what: tuple, compute, *, text: str, asked: bool):
    """``compute(progress)``'s pictures (uint8) for ``what``, through the line of heavy work, only
    when ``asked`` (the learner's click) or already computed; else None."""
    found = _kept(loaded, what)
    if found is not None or not asked:
        return found
    key = _key(loaded, what)

    def run(job):
        def progress(done, total):
            if done % 8 == 0 or done == total:      # a bar update every 8 steps; a Stop click ends it
                job.progress(done / total, text=text)

        def make():
            pictures = compute(progress)
            return (np.clip(pictures, 0, 1) * 255).round().astype(np.uint8)
        return _PICTURES.get_or_make(key, make) if _shared(loaded) else make()

    return heavy_memo(f"inside.fv.{what[0]}", key, "featviz", run, text=text, asked=True)


def _on_click(loaded, what: tuple, label: str, key: str, icon: str, compute, text: str, *, where=None,
              primary: bool = False):
    """The pictures of ``what`` if computed already; else a button (``label``) that computes them
    (``compute(progress)``) through the line of heavy work. The button goes once they are there."""
    found = _kept(loaded, what)
    if found is not None:
        return found
    button = (where or st).empty()
    asked = button.button(label, key=key, icon=icon, type="primary" if primary else "secondary")
    found = _pictures(loaded, what, compute, text=text, asked=asked)
    if found is not None:
        button.empty()
    return found


def _tile_width() -> int:
    return 112 if presenting() else 84


def _framed(picture, size: int):
    """``picture`` enlarged (nearest) to about ``size`` px in a thin grey frame: a white pattern
    must not melt into the white page."""
    from PIL import ImageOps

    from cnnviz import figures

    return ImageOps.expand(figures.upscale(picture, size), 2, figures.MUTED)


def _show_tiles(pictures, captions, *, width: int | None = None, where=None) -> None:
    big = [_framed(p, width or _tile_width()) for p in pictures]
    image(big, caption=captions, width="content", where=where)


def _options(loaded, layer: str, channel: int, n_channels: int) -> list[int]:
    """Channel ``channel`` and ``OPTIONS - 1`` others of the layer, in an order drawn from a seed
    of (network, layer, channel): the same question for the whole class."""
    from .predict import predict_context

    seed = int(predict_context(loaded.name, layer, int(channel))[:8], 16)
    rng = np.random.default_rng(seed)
    others = [c for c in range(n_channels) if c != channel]
    chosen = [int(channel), *(int(c) for c in rng.choice(others, size=min(OPTIONS - 1, len(others)), replace=False))]
    return [chosen[i] for i in rng.permutation(len(chosen))]


def _guess(loaded, layer: str, channel: int, grid) -> str:
    """Predict first: four patterns of the layer, which is channel ``channel``'s? -> the state."""
    from .predict import predict_buttons, predict_choice, predict_context, predict_state

    options = _options(loaded, layer, channel, len(grid))
    about = predict_context(loaded.name, layer, int(channel), "featviz")
    state, guess = predict_state("featviz", about)
    names = [t("inside.fv_pattern", letter=LETTERS[i]) for i in range(len(options))]
    if state == "ask":
        _show_tiles([grid[c] for c in options], names, width=168 if presenting() else 140)
        predict_choice("featviz", about, names, ask=t("inside.fv_ask", c=channel),
                       pick=t("inside.fv_pick"), reveal=t("inside.fv_reveal"))
        return state
    right = options.index(int(channel))
    if state == "guessed":
        if guess == right:
            st.success(t("inside.fv_right", p=names[right], c=channel), icon=":material/ads_click:")
        else:
            st.warning(t("inside.fv_wrong", g=names[guess], gc=options[guess], p=names[right], c=channel),
                       icon=":material/ads_click:")
        _show_tiles([grid[c] for c in options],
                    [t("inside.fv_pattern_of", letter=LETTERS[i], c=c) for i, c in enumerate(options)],
                    width=168 if presenting() else 140)
    predict_buttons("featviz", state)
    return state


def _beside_top(loaded, layer: str, picture, channel: int, top, field) -> None:
    """The channel's optimized picture beside its top test images' patches (what its strongest
    unit saw), all about 168 px."""
    from cnnviz.analysis import featviz
    from .inside import top_panels

    cols = st.columns(4)
    peak = featviz.peak(loaded, layer, channel, picture / 255.0)   # the picture shown (uint8), beside the
    #                                                                patches' peaks: is it stronger?
    image(_framed(picture, 168), caption=t("inside.fv_optimized_peak", c=channel, v=num(peak, 2)), width="content",
          where=cols[0])
    if top is None:
        return
    x, found = top
    if found.status(channel) == "dead":
        cols[1].caption(t("inside.fv_no_top", c=channel))
        return
    for col, idx, value, rc in zip(cols[1:], found.images[channel], found.values[channel], found.where[channel]):
        _picture, boxed, _outside = top_panels(x, idx, rc, field)
        image(boxed, caption=t("inside.fv_patch", v=num(float(value), 2)), width="content", where=col)


def feature_grid(loaded, layer: str, layer_name: str, channel: int, n_channels: int, top, field) -> None:
    """A bundled network: every channel of ``layer`` on a click (once for the class), then predict
    first (which pattern is channel ``channel``'s?), then its picture beside its top patches, the
    whole grid, several optima and two channels together."""
    from cnnviz.analysis import featviz

    grid = _on_click(loaded, ("grid", layer), t("inside.fv_grid_button", n=n_channels, layer=layer_name),
                     "inside.fv.grid_button", ":material/grid_view:",
                     lambda progress: featviz.visualize_layer(loaded, layer, progress=progress),
                     t("inside.fv_computing", n=n_channels, layer=layer_name), primary=True)
    if grid is None:
        st.caption(t("inside.fv_grid_hint", n=n_channels))
        return
    if _guess(loaded, layer, channel, grid) == "ask":
        return
    _beside_top(loaded, layer, grid[channel], channel, top, field)
    st.markdown(t("inside.fv_grid_title", n=len(grid), layer=layer_name))
    _show_tiles(list(grid), [t("inside.fv_tile", c=c) for c in range(len(grid))])
    st.caption(t("inside.fv_grid_caption", steps=featviz.default_steps(loaded)))
    _diversity(loaded, layer, channel)
    _interaction(loaded, layer, channel, n_channels, grid)


def one_channel(loaded, layer: str, layer_name: str, channel: int) -> None:
    """An ImageNet network or a learner's own: one channel at a time, on a click (a ResNet-18
    grid would take hours)."""
    from cnnviz.analysis import featviz

    found = _on_click(loaded, ("one", layer, int(channel)), t("inside.fv_one_button", c=channel),
                      "inside.fv.one_button", ":material/image_search:",
                      lambda progress: featviz.visualize(loaded, layer, channel, progress=progress),
                      t("inside.fv_computing_one", c=channel, layer=layer_name), primary=True)
    if found is None:
        st.caption(t("inside.fv_one_hint"))
        return
    image(_framed(found, 224), caption=t("inside.fv_optimized", c=channel), width="content")


def _diversity(loaded, layer: str, channel: int) -> None:
    from cnnviz.analysis import featviz

    found = _on_click(loaded, ("diverse", layer, int(channel)), t("inside.fv_diverse_button", n=DIVERSE, c=channel),
                      "inside.fv.diverse_button", ":material/auto_awesome_mosaic:",
                      lambda progress: featviz.diverse(loaded, layer, channel, DIVERSE, progress=progress),
                      t("inside.fv_computing_diverse", n=DIVERSE, c=channel))
    if found is not None:
        st.markdown(t("inside.fv_diverse_title", n=len(found), c=channel))
        _show_tiles(list(found), [t("inside.fv_optimum", i=i + 1) for i in range(len(found))])
        st.caption(t("inside.fv_diverse_caption"))


def _interaction(loaded, layer: str, channel: int, n_channels: int, grid) -> None:
    from cnnviz.analysis import featviz

    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    other = c1.selectbox(t("inside.fv_pair_pick", c=channel), [c for c in range(n_channels) if c != channel],
                         key=f"inside.fv.pair.{layer}.{channel}", format_func=lambda c: t("inside.fv_tile", c=c))
    found = _on_click(loaded, ("pair", layer, int(channel), int(other)), t("inside.fv_pair_button", a=channel, b=other),
                      "inside.fv.pair_button", ":material/join:",
                      lambda progress: featviz.interaction(loaded, layer, channel, other, progress=progress),
                      t("inside.fv_computing_pair", a=channel, b=other), where=c2)
    if found is not None:
        _show_tiles([grid[channel], grid[other], found],
                    [t("inside.fv_tile", c=channel), t("inside.fv_tile", c=other),
                     t("inside.fv_pair_result", a=channel, b=other)], width=168 if presenting() else 140)
        st.caption(t("inside.fv_pair_caption"))
