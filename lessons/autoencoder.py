"""Lesson: autoencoders and variational autoencoders (seed 002, section 6)."""

import numpy as np
import streamlit as st

from cnnviz import course, data, figures, ui

t = ui.t
URL = course.url("autoencoder")
SHOWN = 2000        # test digits drawn in the latent space
SPAN = 3.0          # the sliders' range and the decoded plane's: -3 .. +3 on both axes
TILES = 15          # digits per side of the decoded plane


def test_digits_available() -> bool:
    """Whether MNIST's test digits are here: the full test set, or the bundled sample of it."""
    return data.source("mnist") is not None


def encode_and_decode(model, have_data: bool):
    """1. Encode and decode: a test digit or a drawn one, its two-number code and the digit
    rebuilt from it. -> (the digit as a tensor or None, its code z: the centre without one)."""
    st.header(t("ae.encode_header"))
    sources = (["test", "draw"] if have_data else ["draw"])
    c_in, c_code, c_out = st.columns([1.3, 1, 1], gap="large")
    x = None
    with c_in:
        source = st.radio(t("ae.source"), sources, horizontal=True, key="ae.source",
                          format_func=ui.labels("ae.source_"))
        if source == "test":
            shown = len(ui.vae_test_codes(SHOWN)[1])      # 2,000, or fewer with the bundled sample of the test set
            index = int(st.number_input(t("ae.index"), 0, shown - 1, 0, key="ae.index", bind="query-params",
                                        help=t("ae.index_help", n=ui.num(shown))))
            x = ui.vae_test_codes(SHOWN)[0][index:index + 1]
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
    return x, z


def the_latent_space_header():
    """2. The latent space: its header, and a place for the plot, drawn once the sliders below say
    which point is decoded (``the_latent_space``)."""
    st.header(t("ae.space_header"))
    return st.empty()


def generate(model, z) -> tuple[float, float]:
    """3. Generate: a point picked with two sliders, the digit decoded from it, and the whole plane
    decoded with the point marked. -> the point (z1, z2)."""
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
        plane = figures.picture(ui.vae_manifold(TILES, SPAN), 520)
        tile = plane.size[0] / TILES
        row, col = ae.manifold_position((z1, z2), TILES, SPAN)
        ui.image(figures.mark_point(plane, (col + 0.5) * tile, (row + 0.5) * tile, half=tile / 2),
                 caption=t("ae.manifold", span=ui.num(SPAN, 1), z1=ui.num(z1, 1), z2=ui.num(z2, 1)))
    return z1, z2


def the_latent_space(slot, have_data: bool, x, z, chosen) -> None:
    """In section 2's place: the test digits' codes, the learner's digit and the chosen point."""
    z1, z2 = chosen
    names = [t(f"models.classes.digits.{i}") for i in range(10)]
    with slot.container():
        if have_data:
            tx, ty, tmean = ui.vae_test_codes(SHOWN)
            st.markdown(t("ae.space_intro", n=ui.num(len(ty))))
            ui.plot(figures.latent_figure(tmean.numpy(), ty.numpy(), names, marked=z if x is not None else None,
                                          marked_name=t("ae.yours"), chosen=(z1, z2),
                                          chosen_name=t("ae.chosen", z1=ui.num(z1, 1), z2=ui.num(z2, 1))),
                    key="ae.space")
        else:
            st.info(t("ae.no_data", folder=str(data.data_root())), icon=":material/folder_off:")


def what_makes_it_variational(model, x) -> None:
    """4. What makes it variational: several draws of the same digit, the loss and the VAE's card."""
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
        info = ui.vae_card()
        st.caption(t("ae.card", n=ui.num(info["data"]["train_images"]), epochs=info["training"]["epochs"],
                     bce=ui.num(info["metrics"]["test_reconstruction_bce"], 1),
                     params=ui.num(info["params"])))


ui.lesson_start(URL)   # title, introduction, goal
import torch  # noqa: E402  (this lesson runs a network)

from cnnviz.train import autoencoder as ae  # noqa: E402
from cnnviz.models import digits_preprocess  # noqa: E402

model = ui.vae()
have_data = test_digits_available()
x, z = encode_and_decode(model, have_data)
space_slot = the_latent_space_header()
chosen = generate(model, z)
the_latent_space(space_slot, have_data, x, z, chosen)
what_makes_it_variational(model, x)
ui.lesson_end(URL)
