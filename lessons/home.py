import streamlit as st

from cnnviz import ui

t = ui.t
st.title(t("home.title"))
st.markdown(t("home.intro"))

# The course for learners alone: the lessons in the navigation's order (app.py's PAGES, via ui.course()).
start_col, note_col = st.columns([1, 3], vertical_alignment="center")
if start_col.button(t("course.start"), type="primary", icon=":material/play_arrow:", key="course.start",
                    width="stretch"):
    st.switch_page(ui.course()[0][0])
note_col.markdown(t("course.start_note"))

# Each card is named by the lesson's sidebar key (nav.page.<key>, as in app.py), so a card and
# its link in the sidebar can't drift apart; <key>.summary says what the lesson does.
LESSONS = [
    ("lessons/image_numbers.py", "numbers", ":material/grid_on:"),
    ("lessons/convolution.py", "conv", ":material/filter_center_focus:"),
    ("lessons/conv1d.py", "conv1d", ":material/show_chart:"),
    ("lessons/why_cnn.py", "why", ":material/calculate:"),
    ("lessons/layers.py", "layers", ":material/stacks:"),
    ("lessons/inside.py", "inside", ":material/layers:"),
    ("lessons/receptive_field.py", "rf", ":material/center_focus_strong:"),
    ("lessons/train.py", "train", ":material/model_training:"),
    ("lessons/autoencoder.py", "ae", ":material/compress:"),
    ("lessons/explain.py", "explain", ":material/visibility:"),
]
for start in range(0, len(LESSONS), 2):   # one row per pair, so the cards line up
    cols = st.columns(2)
    for col, (path, key, icon) in zip(cols, LESSONS[start:start + 2]):
        with col.container(border=True, height="stretch"):
            st.subheader(t(f"nav.page.{key}"))   # the sidebar's name for it, in both languages
            st.write(t(f"{key}.summary"))
            st.page_link(path, label=t("home.open_lesson"), icon=icon)

# The course's examples one click away: each link opens a lesson on that view (issue 11)
PRESET_LINKS = [
    ("lessons/convolution.py", "links.preset_curve", {"conv.sample": "mouse", "conv.preset": "curve_detector"}),
    ("lessons/convolution.py", "links.preset_28",
     {"conv.sample": "shapes", "conv.side": "32", "conv.depth": "rgb", "conv.preset": "gaussian_blur"}),
    ("lessons/why_cnn.py", "links.preset_why", {"why.h": "256", "why.w": "256", "why.c": "1"}),
    ("lessons/receptive_field.py", "links.preset_vgg", {"rf.stack": "vgg16"}),
]
with st.expander(t("home.teachers_title")):
    st.markdown(t("home.teachers"))
    st.markdown(t("links.presets_intro"))
    for page, label, params in PRESET_LINKS:
        st.page_link(page, label=t(label), icon=":material/link:", query_params={**params, "lang": ui.lang()})
st.caption(t("home.footer"))
