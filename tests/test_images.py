import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnviz.maths import images
from cnnviz.maths.images import ImageError, load_image


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


RGB = Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8), "RGB")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_supported_format_loads_as_rgb(fmt):
    img = load_image(encode(RGB, fmt))
    assert img.mode == "RGB" and img.size == (30, 20)


def test_lossless_formats_keep_the_pixels():
    for fmt in ["PNG", "BMP", "TIFF"]:
        assert np.array_equal(np.asarray(load_image(encode(RGB, fmt))), np.asarray(RGB))


def test_path_and_file_like_sources(tmp_path):
    p = tmp_path / "x.png"
    p.write_bytes(encode(RGB, "PNG"))
    assert load_image(p).size == (30, 20)
    assert load_image(str(p)).size == (30, 20)
    assert load_image(io.BytesIO(p.read_bytes())).size == (30, 20)
    assert load_image(memoryview(p.read_bytes())).size == (30, 20)


def test_animated_gif_gives_the_first_frame():
    frames = [Image.new("RGB", (8, 8), c) for c in [(255, 0, 0), (0, 0, 255)]]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    img = load_image(buf.getvalue())
    r, g, b = img.getpixel((4, 4))
    assert r > 200 and b < 50


def test_exif_orientation_is_honoured():
    wide = Image.new("RGB", (40, 10), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img = load_image(encode(wide, "JPEG", exif=exif.tobytes()))
    assert img.size == (10, 40)


@pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK", "YCbCr"])
def test_colour_modes_become_rgb(mode):
    src = RGB.convert(mode)
    fmt = "JPEG" if mode in ("CMYK", "YCbCr") else "PNG"
    img = load_image(encode(src, fmt if mode != "YCbCr" else "JPEG"))
    assert img.mode == "RGB" and img.size == (30, 20)


def test_transparency_is_composited_on_white():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    rgba.putpixel((0, 0), (255, 0, 0, 255))
    rgba.putpixel((1, 0), (0, 0, 0, 128))
    img = load_image(encode(rgba, "PNG"))
    assert img.getpixel((3, 3)) == (255, 255, 255)   # fully transparent -> white
    assert img.getpixel((0, 0)) == (255, 0, 0)       # opaque red stays red
    assert 120 <= img.getpixel((1, 0))[0] <= 135     # half-transparent black -> grey
    la = Image.new("LA", (3, 3), (0, 0))
    assert load_image(encode(la, "PNG")).getpixel((1, 1)) == (255, 255, 255)
    p = Image.new("P", (3, 3), 0)
    p.putpalette([0, 0, 0, 255, 0, 0])
    p.info["transparency"] = 0
    assert load_image(encode(p, "PNG", transparency=0)).getpixel((0, 0)) == (255, 255, 255)


def test_16_bit_greyscale_is_scaled_not_clipped():
    arr = np.array([[0, 32768, 65535]], dtype=np.uint16)
    im16 = Image.fromarray(arr)
    img = load_image(encode(im16, "PNG"))
    assert [img.getpixel((x, 0))[0] for x in range(3)] == [0, 128, 255]


def _png_claiming(width, height) -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb's calling card."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(ImageError) as info:
        load_image(_png_claiming(100_000, 100_000))
    assert info.value.key == "images.error.bomb"
    assert "10,000 million pixels" in str(info.value)
    with pytest.raises(ImageError) as info:
        load_image(_png_claiming(8000, 6000))  # within Pillow's limit, beyond ours
    assert info.value.key == "images.error.too_many_pixels"
    assert "8000 × 6000" in str(info.value)
    with pytest.raises(ImageError):
        load_image(encode(RGB, "PNG"), max_pixels=100)


def test_truncated_and_corrupt_files():
    jpeg = encode(RGB.resize((200, 200)), "JPEG")
    with pytest.raises(ImageError) as info:
        load_image(jpeg[: len(jpeg) // 2])
    assert info.value.key == "images.error.corrupt"
    png = bytearray(encode(RGB, "PNG"))
    png[60:120] = b"\x00" * 60
    with pytest.raises(ImageError) as info:
        load_image(bytes(png))
    assert info.value.key in ("images.error.corrupt", "images.error.not_an_image")


@pytest.mark.parametrize("data,key", [
    (b"", "images.error.empty"),
    (b"hello, I am a text file", "images.error.not_an_image"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "images.error.not_an_image"),
    (b"\x89PNG\r\n\x1a\n", "images.error.not_an_image"),     # a PNG signature and nothing else
])
def test_not_images(data, key):
    with pytest.raises(ImageError) as info:
        load_image(data)
    assert info.value.key == key
    assert info.value.message("pt_BR") != info.value.message("en")


def test_oversize_file_refused_without_decoding():
    with pytest.raises(ImageError) as info:
        load_image(b"\x00" * (images.MAX_BYTES + 1))
    assert info.value.key == "images.error.too_big_file"
    with pytest.raises(ImageError):
        load_image(io.BytesIO(b"\x00" * (images.MAX_BYTES + 10)))


def test_unsupported_format_is_named():
    ico = encode(Image.new("RGB", (16, 16)), "ICO")
    with pytest.raises(ImageError) as info:
        load_image(ico)
    assert info.value.key == "images.error.format"


def test_other_source_types_refused():
    for bad in [None, 42, io.StringIO("text")]:
        with pytest.raises(ImageError):
            load_image(bad)


def test_is_a_value_error():
    with pytest.raises(ValueError):
        load_image(b"nope")


def test_samples_all_load_and_have_licences():
    licences = (images.ASSETS / "samples" / "LICENSES.md").read_text()
    for key, sample in images.SAMPLES.items():
        img = images.load_sample(key)
        assert img.mode == "RGB" and min(img.size) >= 28
        assert sample.file in licences


def test_fit_and_to_array():
    big = Image.new("RGB", (400, 100))
    assert images.fit(big, 100).size == (100, 25)
    assert images.fit(big, 1000) is big
    gray = images.to_array(Image.new("RGB", (2, 2), (10, 200, 30)), "gray")
    assert gray.shape == (2, 2) and gray[0, 0] == round(0.299 * 10 + 0.587 * 200 + 0.114 * 30)
