"""cnnviz: how a convolutional neural network sees. Run with ``streamlit run app.py``."""

import streamlit as st

from cnnviz import ui

# ?present=1 (presentation mode: larger type, sidebar folded) is read before the page is set up
st.set_page_config(page_title="cnnviz", page_icon="🔎", layout="wide",
                   initial_sidebar_state="collapsed" if ui.presenting() else "auto")
ui.language_picker()
t = ui.t

# Groups in DESIGN.md's order: Basics / Inside a CNN / Training / Explain.
# url_path stays the same in both languages so a teacher's link works for everyone.
PAGES = {
    "nav.basics": [
        ("lessons/home.py", "home", "nav.page.home", ":material/home:", True),
        ("lessons/image_numbers.py", "image-as-numbers", "nav.page.numbers", ":material/grid_on:", False),
        ("lessons/convolution.py", "convolution", "nav.page.conv", ":material/filter_center_focus:", False),
        ("lessons/conv1d.py", "conv1d", "nav.page.conv1d", ":material/show_chart:", False),
        ("lessons/why_cnn.py", "why-convolution", "nav.page.why", ":material/calculate:", False),
        ("lessons/layers.py", "layers", "nav.page.layers", ":material/stacks:", False),
    ],
    "nav.inside": [
        ("lessons/inside.py", "inside-a-cnn", "nav.page.inside", ":material/layers:", False),
        ("lessons/receptive_field.py", "receptive-field", "nav.page.rf", ":material/center_focus_strong:", False),
    ],
    "nav.train": [
        ("lessons/train.py", "train", "nav.page.train", ":material/model_training:", False),
        ("lessons/autoencoder.py", "autoencoder", "nav.page.ae", ":material/compress:", False),
    ],
    "nav.explain": [
        ("lessons/explain.py", "explain", "nav.page.explain", ":material/visibility:", False),
    ],
}

nav = st.navigation({
    t(group): [st.Page(path, title=t(title), icon=icon, url_path=None if default else url, default=default)
               for path, url, title, icon, default in pages]
    for group, pages in PAGES.items()
})
st.sidebar.caption(t("app.sidebar_note"))
ui.progress_sidebar(nav.url_path)   # lessons opened, questions right, the report (issue 13)
ui.present_mode()
ui.copy_link()
ui.link_start(nav.url_path)   # a place at the top of the page for a warning about a bad link
nav.run()
ui.link_end()
