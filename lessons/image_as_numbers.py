"""Lesson: an image is a grid of numbers (what we see vs what the computer sees)."""

import numpy as np
import streamlit as st

from cnnviz import course, figures, ui
from cnnviz.maths import images

t = ui.t
URL = course.url("image_as_numbers")


def the_picture():
    """The picture, in the left column. Without one, the page ends here. -> (picture, left, right)."""
    left, right = st.columns([2, 3], gap="large")
    with left:
        img = ui.image_picker("numbers", default="mouse")
    if img is None:
        st.stop()
    return img, left, right


def the_region(img, left, right):
    """Its shape and how many numbers it is, the square region to read (size, top, left) and the
    picture with the region boxed. -> (RGB array, gray array, (top, left, size))."""
    rgb = images.to_array(img, "rgb")
    gray = images.to_array(img, "gray")
    h, w, c = rgb.shape

    with left:
        st.metric(t("numbers.shape"), f"{h} × {w} × {c}")
        st.caption(t("numbers.count", h=h, w=w, c=c, n=ui.num(rgb.size)))
        size = st.slider(t("numbers.region_size"), 2, 32, min(12, h, w), key="numbers.size", bind="query-params")
        size = min(size, h, w)
        top = st.slider(t("numbers.top"), 0, h - size, min(images.SAMPLE_FOCUS[0], h - size), key="numbers.top", bind="query-params") if h > size else 0
        lft = st.slider(t("numbers.left"), 0, w - size, min(images.SAMPLE_FOCUS[1], w - size), key="numbers.left", bind="query-params") if w > size else 0

    with right:
        hi = figures.display_range(rgb)[1]      # a dim picture (the course's mouse) is shown brighter
        ui.image(figures.draw_box(figures.stretched(img, hi), (top, lft, size, size), target=480), width="content",
                 caption=t("numbers.we_see") + (" " + t("figures.stretched", hi=figures.fmt(hi)) if hi < 255 else ""))
    return rgb, gray, (top, lft, size)


def what_the_computer_sees(rgb, gray, box) -> None:
    """What the computer sees: the region's numbers, channel by channel (gray, R, G, B, all three)."""
    top, lft, size = box
    st.subheader(t("numbers.computer_sees", size=size, top=top, left=lft))
    region = rgb[top:top + size, lft:lft + size]
    tabs = st.tabs([t("numbers.channel_gray"), t("numbers.channel_r"), t("numbers.channel_g"),
                    t("numbers.channel_b"), t("numbers.channel_all")])
    cell = 40 if size <= 16 else 28
    hover = t("figures.hover")
    planes = [("gray", gray[top:top + size, lft:lft + size]), ("R", region[..., 0]), ("G", region[..., 1]),
              ("B", region[..., 2])]
    for tab, (name, plane) in zip(tabs, planes):
        with tab:
            nums, pic = st.columns([3, 2])
            nums.html(figures.matrix_html(plane, scale=name, vmin=0, vmax=255, cell=cell, hover=hover, row0=top,
                                          col0=lft))
            nums.html(figures.legend_html(figures.map_scale(plane, 0, 255), fmt=ui.number_format(),
                                          label=t(f"numbers.legend_{name}"), gray=True if name == "gray" else name))
            ui.image(figures.upscale(figures.channel_image(plane, name), 300), caption=t("numbers.zoom"),
                     width="content", where=pic)
            if name == "gray":
                st.caption(t("numbers.gray_formula"))
    with tabs[-1]:
        st.caption(t("numbers.all_help"))
        ui.image(figures.upscale(region, 320), caption=t("numbers.zoom"), width="content")
        triples = np.array([[t("numbers.rgb_triple", r=int(r), g=int(g), b=int(b)) for r, g, b in row]
                            for row in region[:8, :8]])
        st.dataframe(triples, hide_index=False)


def download_and_why(rgb, gray, box) -> None:
    """The gray region as a CSV file, and why a computer needs numbers."""
    top, lft, size = box
    h, w, _ = rgb.shape
    st.download_button(t("numbers.download"), data="\n".join(",".join(str(v) for v in row) for row in
                                                                gray[top:top + size, lft:lft + size]),
                       file_name="region_gray.csv", mime="text/csv")
    with st.expander(t("numbers.why_title")):
        st.markdown(t("numbers.why", h=h, w=w, n=ui.num(rgb.size)))


ui.lesson_start(URL)   # title, introduction, goal
img, left, right = the_picture()
rgb, gray, box = the_region(img, left, right)
what_the_computer_sees(rgb, gray, box)
download_and_why(rgb, gray, box)
ui.lesson_end(URL)
