"""Views of a network's insides: the digit canvas, a layer's filters, the top images of a channel."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.base.kept import Kept, content_key
from .heavywork import heavy_memo
from .language import num, number_format, t
from .models import shared_model
from .pictures import image




def digit_canvas(key: str, px: int = 280):
    """A canvas to draw a digit with the mouse or a finger -> RGB PIL image, or None if empty."""
    from PIL import Image
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(stroke_width=max(10, px // 14), stroke_color="#000000", background_color="#ffffff",
                       height=px, width=px, drawing_mode="freedraw", return_image_data=True, key=key)
    data = getattr(result, "image_data", None) if result is not None else None
    if data is None or not np.any(data[..., :3].min(axis=2) < 128):
        return None
    rgba = Image.fromarray(np.asarray(data, dtype=np.uint8), "RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def show_filters(weight, channel: int, conv_name: str) -> None:
    """The learned filter that made ``channel``: colour for an RGB first layer, else per input channel."""
    from .. import figures
    from cnnviz.analysis import inspect as insp

    imgs = insp.filter_images(weight)
    out_c, in_c, kh, kw = weight.shape
    # the colour bar of this filter's own scale (filter_images: mid-grey = 0, white = its largest |w|)
    reach = float(weight[channel].detach().abs().max())
    legend = figures.legend_html(figures.map_scale([-reach, reach], -reach, reach), fmt=number_format(),
                                 label=t("inside.filter_legend"), gray=True)
    if in_c == 3 and imgs.ndim == 4 and imgs.shape[-1] == 3:
        one = figures.filter_tiles(imgs[channel:channel + 1], cols=1, cell=168)
        image(one, caption=t("inside.filter_rgb", c=channel, layer=conv_name, k=kh), width=one.width)
        st.html(legend)
        with st.expander(t("inside.all_filters", n=out_c, layer=conv_name)):
            grid = figures.filter_tiles(imgs, cols=8, cell=48)
            image(grid, width=grid.width)
            st.caption(t("inside.filters_scale"))
    else:
        tiles = figures.filter_tiles(imgs[channel][:64], cols=8, cell=48 if in_c > 1 else 168)
        image(tiles, width=tiles.width,
                 caption=t("inside.filter_slices", c=channel, layer=conv_name, k=kh, n=min(in_c, 64), total=in_c))
        st.html(legend)
        st.caption(t("inside.filters_scale"))


TOP_IMAGES_N = 1000


# bundled model -> (its test images, every layer's top images), per server: a few models, all kept
_TOP = Kept()


def _top_images_for(name: str, progress=None):
    """For a bundled model: its first 1,000 test images and every layer's top images, computed once
    per server process. Not ``st.cache_resource``: the first computation draws its progress bar,
    which a cached function may not do. Two first requests at once: the second waits for the first."""
    from cnnviz import models
    from cnnviz.analysis import inspect as insp

    return _TOP.get_or_make(name, lambda: insp.dataset_top_images(
        shared_model(name), models.BUNDLED[name].dataset, TOP_IMAGES_N, k=8, progress=progress))


def kept_top_images(name: str, layer: str):
    """(images, TopImages of ``layer``) of bundled model ``name`` if the server has them, else None
    (never computed here)."""
    kept = _TOP.get(name)
    return None if kept is None else (kept[0], kept[1][layer])


def top_images(name: str, layer: str):
    """(images in [0, 1], TopImages of ``layer``) for bundled model ``name``, or None with a message.

    The first computation (1,000 images through the network) takes its turn in the server's line
    (``heavy_memo``: place in line, Cancel, progress); once computed, every learner gets it at once."""
    kept = _TOP.get(name)
    if kept is not None:
        x, found = kept
        return x, found[layer]
    text = t("inside.top_computing", n=TOP_IMAGES_N)
    top = heavy_memo("inside.top", name, "top_images", lambda job: _top_images_for(
        name, progress=lambda done, total: job.progress(done / max(total, 1), text=text)), text=text)
    return None if top is None else (top[0], top[1][layer])


PANELS_KEPT = 512                  # top-image panels kept as PNG (~25 KB each): a few layers' worth
_PANELS = Kept(max_items=PANELS_KEPT)   # (image, box) content -> (png, png, padded)


def top_panels(x, idx, rc, field) -> tuple[bytes, bytes, bool]:
    """Test picture ``idx`` of ``x`` with the receptive field of its unit at ``rc`` (row, col)
    outlined, and that patch enlarged, as PNG bytes, and whether the patch reaches past the border.
    The same for every learner: kept, so a rerun sends them without drawing them again."""
    from PIL import Image, ImageOps

    from .. import figures
    from cnnviz.analysis import inspect as insp

    top, left, size = field.box(int(rc[0]), int(rc[1])) if not field.whole else (0, 0, max(x.shape[-2:]))
    picture = x[int(idx)]
    key = content_key((tuple(picture.shape), str(picture.dtype), int(top), int(left), int(size)),
                      picture.numpy().tobytes())

    def draw():
        arr = (picture.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        img = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr).convert("RGB")
        framed = ImageOps.expand(figures.draw_box(img, (top, left, size, size), target=168, width=3), 2,
                                 figures.MUTED)
        patch, outside = insp.padded_patch(np.asarray(img), top, left, size, target=168)
        # a frame: a white patch must not melt into the white page
        boxed = ImageOps.expand(Image.fromarray(patch), 2, figures.ACCENT)
        return (figures.png_bytes(framed, compress_level=1), figures.png_bytes(boxed, compress_level=1),
                bool(outside > 0))

    return _PANELS.get_or_make(key, draw)


def show_top_images(loaded, x, found, channel: int, field, *, per_row: int = 4) -> None:
    """The images (and their patches) that make ``channel`` fire most, Zeiler & Fergus style.

    Projector-sized: ``per_row`` images of about 168 px, each above the patch its strongest
    unit saw (enlarged); the first row shows, the rest is one click away. Where the patch
    reaches past the border, the outside is drawn as grey stripes (the network's padding)
    and said so. A dead channel, or one whose top images all tie, is explained instead of
    being shown as if its images meant something.
    """
    from cnnviz.analysis import inspect as insp

    status = found.status(channel)
    values = found.values[channel]
    searched = found.searched or TOP_IMAGES_N
    if status == "dead":
        st.warning(t("inside.top_dead", c=channel, v=num(float(values[0]), 2), n=searched),
                   icon=":material/block:")
        return
    if status == "tied":
        value, count = insp.tie(values)
        reach = int(found.reach[channel]) if found.reach is not None else len(values)
        st.info(t("inside.top_tied", c=channel, v=num(value, 2), count=count, k=len(values), reach=num(reach),
                  n=num(searched)), icon=":material/drag_handle:")
    padded = False

    def one(col, idx, value, rc):
        nonlocal padded
        framed, boxed, outside = top_panels(x, idx, rc, field)
        image(framed, width="content", where=col)
        padded |= outside
        image(boxed, width="content", where=col)
        col.markdown(f"**{num(float(value), 2)}**")

    items = list(zip(found.images[channel], values, found.where[channel]))
    first, rest = items[:per_row], items[per_row:]
    for col, item in zip(st.columns(per_row), first):
        one(col, *item)
    if rest:   # drawn only when opened: a class mostly looks at the first row
        more = st.expander(t("inside.top_more", n=len(rest)), key="inside.top_more", on_change="rerun")
        if more.open:
            with more:
                for col, item in zip(st.columns(per_row), rest):
                    one(col, *item)
    st.caption(t("inside.top_caption", n=len(items), total=num(searched), rf=field.size))
    if padded:
        st.caption(t("inside.top_padding"))
