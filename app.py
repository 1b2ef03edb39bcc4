"""cnnviz: how a convolutional neural network sees. Run with ``streamlit run app.py``."""

import streamlit as st

from cnnviz import course, ui

# ?present=1 (presentation mode: larger type, sidebar folded) is read before the page is set up
st.set_page_config(page_title="cnnviz", page_icon="🔎", layout="wide",
                   initial_sidebar_state="collapsed" if ui.presenting() else "auto")
ui.language_picker()
t = ui.t

# The sidebar: cnnviz.course's lessons in their groups (DESIGN.md's order). A page's URL is the
# same in both languages so a teacher's link works for everyone. Their paths are absolute (cnnviz.course),
# so they resolve from the hosted demo's entrypoint too (hosted/streamlit_app.py).
nav = st.navigation({
    t(f"nav.{group}"): [st.Page(x.path, title=t(x.title_key), icon=x.icon, url_path=None if x is course.HOME else x.url,
                                default=x is course.HOME) for x in pages]
    for group, pages in course.grouped().items()
}, expanded=True)   # every lesson listed: collapsed, Streamlit hides those past the tenth behind "View more"
st.sidebar.caption(t("app.sidebar_note"))
ui.progress_sidebar(nav.url_path)   # lessons opened, questions right, the report (issue 13)
ui.present_mode()
ui.copy_link()
ui.link_start(nav.url_path)   # a place at the top of the page for a warning about a bad link
nav.run()
ui.link_end()
