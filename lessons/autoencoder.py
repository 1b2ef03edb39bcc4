"""Lesson: autoencoders and variational autoencoders (seed 002, section 6)."""

import numpy as np
import streamlit as st

from cnnviz import course, data, figures, ui

t = ui.t
lang = ui.lang()
SHOWN = 2000        # test digits drawn in the latent space
SPAN = 3.0          # the sliders' range and the decoded plane's: -3 .. +3 on both axes
TILES = 15          # digits per side of the decoded plane

ui.lesson_start(URL := course.url("autoencoder"))   # title, introduction, goal; URL: for lesson_end

import torch  # noqa: E402  (this lesson runs a network)

from cnnviz.train import autoencoder as ae  # noqa: E402
from cnnviz.models import digits_preprocess  # noqa: E402


@st.cache_resource(show_spinner=False)
def vae():
    """The bundled VAE, one copy for every learner (read-only)."""
    return ae.load()


@st.cache_data(show_spinner=False)
def vae_card() -> dict:
    """Its model card (read once, not at every rerun)."""
    import json

    return json.loads(ae.WEIGHTS.with_suffix(".json").read_text())


@st.cache_resource(show_spinner=False)
def test_codes():
    """The first test digits, their labels and their latent means (shared, read-only)."""
    x, y = data.as_tensors(data.load_dataset("mnist", train=False), SHOWN)
    mean, _ = ae.encode(vae(), x)
    return x, y, mean


model = vae()


@st.cache_data(show_spinner=False)
def manifold(span: float):
    """The whole plane decoded (the same for every learner: computed once)."""
    return ae.manifold(vae(), TILES, span)

have_data = data.source("mnist") is not None     # the full test set, or the bundled sample of it
names = [t(f"models.classes.digits.{i}") for i in range(10)]


# ------------------------------------------------------------------ 1. encode and decode
st.header(t("ae.encode_header"))
sources = (["test", "draw"] if have_data else ["draw"])
c_in, c_code, c_out = st.columns([1.3, 1, 1], gap="large")
x = None
with c_in:
    source = st.radio(t("ae.source"), sources, horizontal=True, key="ae.source",
                      format_func=ui.labels("ae.source_"))
    if source == "test":
        shown = len(test_codes()[1])      # 2,000, or fewer with the bundled sample of the test set
        index = int(st.number_input(t("ae.index"), 0, shown - 1, 0, key="ae.index", bind="query-params",
                                    help=t("ae.index_help", n=ui.num(shown))))
        x = test_codes()[0][index:index + 1]
    else:
        img = ui.digit_canvas("ae.canvas", px=240)
        if img is None:
            st.info(t("ae.draw_hint"), icon=":material/draw:")
        else:
            _, view = digits_preprocess(img)
            x = torch.from_numpy(np.asarray(view, dtype=np.float32) / 255.0)[None, None]
            st.caption(t("ae.draw_caption"))

z = [0.0, 0.0]            # without a digit, the sliders start at the centre of the plane
if x is not None:
    trip = ae.round_trip(model, x)
    z = list(trip.mean)
    with c_in:
        ui.image(figures.picture(x[0, 0], 168), caption=t("ae.input", n=ui.num(ae.INPUT_NUMBERS)))
    with c_code:
        st.markdown(t("ae.code_intro"))
        st.metric("z₁", ui.num(z[0], 2), help=t("ae.mean_help"))
        st.metric("z₂", ui.num(z[1], 2), help=t("ae.mean_help"))
        st.caption(t("ae.spread", s1=ui.num(trip.std[0], 2), s2=ui.num(trip.std[1], 2)))
    with c_out:
        ui.image(figures.picture(trip.rebuilt, 168), caption=t("ae.output"))
        st.caption(t("ae.error", mse=ui.num(trip.error, 4), ratio=ui.num(ae.COMPRESSION)))

# ------------------------------------------------------------------ 2. the latent space
st.header(t("ae.space_header"))
space_slot = st.empty()     # drawn once the sliders below say which point is decoded

# ------------------------------------------------------------------ 3. generate
st.header(t("ae.generate_header"))
st.markdown(t("ae.generate_intro"))
g1, g2 = st.columns([1, 2], gap="large")
with g1:
    # select sliders, so the values read in the learner's format (a slider always writes "-3.00")
    steps = [round(-SPAN + i / 10, 1) for i in range(int(20 * SPAN) + 1)]
    number = ui.number_format()
    z1 = st.select_slider("z₁", steps, round(float(np.clip(z[0], -SPAN, SPAN)), 1), key="ae.z1",
                          format_func=lambda v: number(v, 1))
    z2 = st.select_slider("z₂", steps, round(float(np.clip(z[1], -SPAN, SPAN)), 1), key="ae.z2",
                          format_func=lambda v: number(v, 1))
    ui.image(figures.picture(ae.decode(model, [[z1, z2]])[0], 200), caption=t("ae.generated", z1=ui.num(z1, 1),
                                                                         z2=ui.num(z2, 1)))
with g2:
    # the plane covers the sliders' range, so the chosen point is always on it, marked in orange
    plane = figures.picture(manifold(SPAN), 520)
    tile = plane.size[0] / TILES
    row, col = ae.manifold_position((z1, z2), TILES, SPAN)
    ui.image(figures.mark_point(plane, (col + 0.5) * tile, (row + 0.5) * tile, half=tile / 2),
             caption=t("ae.manifold", span=ui.num(SPAN, 1), z1=ui.num(z1, 1), z2=ui.num(z2, 1)))

with space_slot.container():
    if have_data:
        tx, ty, tmean = test_codes()
        st.markdown(t("ae.space_intro", n=ui.num(len(ty))))
        ui.plot(figures.latent_figure(tmean.numpy(), ty.numpy(), names, marked=z if x is not None else None,
                                      marked_name=t("ae.yours"), chosen=(z1, z2),
                                      chosen_name=t("ae.chosen", z1=ui.num(z1, 1), z2=ui.num(z2, 1))),
                key="ae.space")
    else:
        st.info(t("ae.no_data", folder=str(data.data_root())), icon=":material/folder_off:")

# ------------------------------------------------------------------ 4. what makes it variational
st.header(t("ae.vae_header"))
st.markdown(t("ae.vae_intro"))
if x is not None:
    draws = ae.samples(model, x, 8, seed=int(st.session_state.get("ae.seed", 0)))
    ui.image([figures.picture(d, 84) for d in draws], width=84)
    if st.button(t("ae.resample"), key="ae.resample_btn", icon=":material/casino:"):
        st.session_state["ae.seed"] = int(st.session_state.get("ae.seed", 0)) + 1
        st.rerun()
st.latex(r"L = \underbrace{-\sum_{i=1}^{784} \left[x_i \log \hat{x}_i + (1 - x_i)\log(1 - \hat{x}_i)\right]}"
         r"_{\text{" + t("ae.recon_term") + r"}} + \underbrace{\frac{1}{2}\sum_{j=1}^{2}"
         r"\left(\mu_j^2 + \sigma_j^2 - \log \sigma_j^2 - 1\right)}_{\text{KL}}")
st.markdown(t("ae.loss_explain"))
if ae.WEIGHTS.with_suffix(".json").is_file():
    info = vae_card()
    st.caption(t("ae.card", n=ui.num(info["data"]["train_images"]), epochs=info["training"]["epochs"],
                 bce=ui.num(info["metrics"]["test_reconstruction_bce"], 1),
                 params=ui.num(info["params"])))

ui.lesson_end(URL)
