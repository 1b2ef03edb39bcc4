"""Draw the sample images shipped in assets/samples (all CC0: we made them).

    python tools/make_samples.py

Deterministic: running it again gives the same PNG files. The mouse is drawn
like the course article's sketch, in "chalk" of value 50 on a black board, and
carries the article's 7x7 receptive field exactly (see cnnviz.maths.kernels), so the
curve detector gives 6600 there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cnnviz.maths.images import SAMPLE_FOCUS  # noqa: E402
from cnnviz.maths.kernels import COURSE_RECEPTIVE_FIELD  # noqa: E402

OUT = ROOT / "assets" / "samples"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def mouse() -> Image.Image:
    board = Image.new("L", (64, 64), 0)
    d = ImageDraw.Draw(board)
    chalk = 50
    d.ellipse((6, 20, 42, 56), outline=chalk, width=2)               # head
    d.ellipse((2, 6, 18, 22), outline=chalk, width=2)                # left ear
    d.ellipse((30, 6, 46, 22), outline=chalk, width=2)               # right ear
    d.ellipse((16, 32, 19, 35), fill=chalk)                          # eyes
    d.ellipse((28, 32, 31, 35), fill=chalk)
    d.ellipse((21, 40, 26, 44), fill=chalk)                          # nose
    for y in (42, 45):                                               # whiskers
        d.line((9, y - 2, 19, y), fill=chalk)
        d.line((28, y, 38, y - 2), fill=chalk)
    # The tail: out of the head, down, then up into the article's curve.
    d.line((41, 46, 46, 56), fill=chalk, width=2)
    d.line((46, 56, 50, 58), fill=chalk, width=2)
    d.line((50, 58, 53, 54), fill=chalk, width=2)
    arr = np.asarray(board).copy()
    top, left = SAMPLE_FOCUS
    arr[top:top + 7, left:left + 7] = COURSE_RECEPTIVE_FIELD.astype(np.uint8)
    arr[top + 7:top + 9, left + 3:left + 5] = chalk                  # join the tail to the field
    return Image.fromarray(arr, "L")


def shapes() -> Image.Image:
    im = Image.new("RGB", (128, 128), "white")
    d = ImageDraw.Draw(im)
    d.ellipse((8, 8, 56, 56), fill=(220, 40, 40))
    d.rectangle((72, 10, 118, 56), fill=(40, 90, 220))
    d.polygon([(32, 70), (8, 118), (56, 118)], fill=(30, 160, 60))
    for i in range(5):
        d.rectangle((70 + i * 11, 70, 75 + i * 11, 118), fill=(20, 20, 20))
    return im


def landscape() -> Image.Image:
    w, h = 160, 120
    sky = np.zeros((h, w, 3), np.uint8)
    for y in range(h):
        t = y / h
        sky[y] = (int(90 + 120 * t), int(150 + 80 * t), 250)
    im = Image.fromarray(sky)
    d = ImageDraw.Draw(im)
    d.ellipse((118, 12, 146, 40), fill=(255, 210, 60))
    d.polygon([(0, 90), (40, 40), (80, 90)], fill=(110, 110, 130))
    d.polygon([(50, 90), (95, 30), (140, 90)], fill=(90, 90, 115))
    d.polygon([(85, 45), (95, 30), (105, 45)], fill=(245, 245, 250))
    d.rectangle((0, 88, w, h), fill=(70, 160, 70))
    d.rectangle((20, 70, 56, 100), fill=(200, 150, 100))
    d.polygon([(16, 72), (38, 54), (60, 72)], fill=(170, 50, 40))
    d.rectangle((34, 84, 42, 100), fill=(90, 60, 40))
    d.rectangle((24, 76, 31, 83), fill=(180, 220, 255))
    return im


def digit() -> Image.Image:
    im = Image.new("L", (112, 112), 255)
    d = ImageDraw.Draw(im)
    pts = [(34, 28), (50, 20), (70, 24), (76, 38), (66, 52), (52, 56), (68, 60), (80, 74),
           (74, 90), (54, 96), (34, 88)]
    d.line(pts, fill=0, width=11, joint="curve")
    return im.convert("RGB")


def letters() -> Image.Image:
    im = Image.new("RGB", (160, 64), "white")
    d = ImageDraw.Draw(im)
    d.text((80, 32), "CNN", fill=(0, 0, 0), font=ImageFont.truetype(FONT, 44), anchor="mm")
    return im


def checkerboard() -> Image.Image:
    y, x = np.mgrid[0:64, 0:64]
    board = (((y // 8) + (x // 8)) % 2) * 255
    diag = ((x + y) // 4 % 2) * 255
    arr = np.where(x + y > 80, diag, board).astype(np.uint8)
    return Image.fromarray(arr, "L").convert("RGB")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for fn in (mouse, shapes, landscape, digit, letters, checkerboard):
        fn().save(OUT / f"{fn.__name__}.png", optimize=True)
        print("wrote", OUT / f"{fn.__name__}.png")
