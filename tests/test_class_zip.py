"""A zip with a folder per class (cnnviz.data.read_class_zip), against a corpus of hostile archives
made here: each is refused (or its bad files skipped) with a message in both languages, and a good
zip gives back the classes, counts and pixels that were written into it."""

import io
import stat
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnviz import data
from cnnviz.data import class_zip
from cnnviz import i18n

LANGS = ("en", "pt_BR")


def png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def noise(seed: int, h: int = 64, w: int = 64) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def make_zip(members, *, method=zipfile.ZIP_DEFLATED, level: int | None = None) -> bytes:
    """members: (name or ZipInfo, bytes) in order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method, compresslevel=level) as zf:
        for name, content in members:
            zf.writestr(name, content)
    return buf.getvalue()


def two_classes(prefix: str = "", n: int = 3) -> list:
    """n noise pictures in each of the classes a/ and b/."""
    return [(f"{prefix}{c}/{i}.png", png(noise(10 * k + i))) for k, c in enumerate("ab") for i in range(n)]


def refused(archive: bytes, **limits) -> data.DataError:
    with pytest.raises(data.DataError) as caught:
        data.read_class_zip(archive, **limits)
    return caught.value


def assert_translated(err, *needles: str) -> None:
    """The message exists in both languages, differs between them, has every number filled in and
    says what it is about."""
    en, pt = (err.message(lang) for lang in LANGS)
    assert en != pt and err.key in i18n.catalog("pt_BR") and err.key in i18n.catalog("en")
    for text in (en, pt):
        assert "{" not in text and err.key not in text, text
        for needle in needles:
            assert needle in text, (needle, text)


def patched(archive: bytes, name: str, *, flag: int = 0, file_size: int | None = None) -> bytes:
    """``archive`` with ``name``'s general-purpose flags or'ed with ``flag`` and its declared
    uncompressed size replaced, in both its local header and its central directory entry."""
    raw = bytearray(archive)
    encoded = name.encode()
    local = raw.find(b"PK\x03\x04")
    while True:     # the local header whose name is ``name``
        n_len = struct.unpack_from("<H", raw, local + 26)[0]
        if raw[local + 30:local + 30 + n_len] == encoded:
            break
        local = raw.find(b"PK\x03\x04", local + 4)
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46:central + 46 + len(encoded)] != encoded:
        central = raw.find(b"PK\x01\x02", central + 4)
    for flags_at, size_at in ((local + 6, local + 22), (central + 8, central + 24)):
        struct.pack_into("<H", raw, flags_at, struct.unpack_from("<H", raw, flags_at)[0] | flag)
        if file_size is not None:
            struct.pack_into("<I", raw, size_at, file_size)
    return bytes(raw)


# ---------------------------------------------------------------- the good zip
def test_a_zipped_folder_of_class_folders_gives_its_classes_counts_and_pixels():
    pictures = {"apples": [noise(i) for i in range(3)],
                "Bananas": [noise(10 + i) for i in range(4)],
                "cherries": [noise(20 + i) for i in range(3)]}
    wide = noise(99, 64, 96)
    wide[:, :16] = wide[:, -16:] = (255, 0, 0)        # red bands either side of the centred square
    members = [(f"my photos/{c}/{i:02d}.png", png(p)) for c in pictures for i, p in enumerate(pictures[c])]
    members += [("my photos/cherries/wide.png", png(wide)),
                ("my photos/cherries/notes.txt", b"three cherries"),
                ("my photos/apples/broken.png", b"\x89PNG\r\n\x1a\n not really"),
                ("my photos/stray.png", png(noise(7))),
                ("__MACOSX/my photos/apples/._00.png", b"resource fork"),
                ("my photos/.DS_Store", b"\0\0\0\1Bud1"), ("my photos/Bananas/Thumbs.db", b"thumbs")]
    found = data.read_class_zip(make_zip(members))
    # folder order is sorted without regard to case (a plain sort puts "Bananas" first)
    assert found.classes == ("apples", "Bananas", "cherries")
    assert found.counts == (3, 4, 4)
    assert found.files[2][-1] == "my photos/cherries/wide.png"
    for got, want in zip(found.pictures, pictures.values()):
        for tensor, written in zip(got, want):     # 64 x 64 pictures are kept as they are
            assert np.array_equal(tensor.permute(1, 2, 0).numpy(), written)
    # the 96 x 64 picture is cut to its centred 64 x 64 square: no red band is left
    assert np.array_equal(found.pictures[2][-1].permute(1, 2, 0).numpy(), wide[:, 16:80])
    skipped = {s.name: s for s in found.skipped}
    assert set(skipped) == {"my photos/cherries/notes.txt", "my photos/apples/broken.png", "my photos/stray.png"}
    assert skipped["my photos/cherries/notes.txt"].key == "data.zip_skip.not_picture"
    assert skipped["my photos/stray.png"].key == "data.zip_skip.no_folder"
    assert skipped["my photos/apples/broken.png"].key.startswith("images.error.")
    for s in skipped.values():
        assert s.message("en") != s.message("pt_BR") and "{" not in s.message("pt_BR")
    # what the Train lesson trains on: floats in [0, 1], the same pixels
    groups = found.groups()
    assert [name for name, _ in groups] == list(found.classes)
    assert np.allclose(groups[1][1][0].permute(1, 2, 0).numpy() * 255, pictures["Bananas"][0], atol=1e-3)
    split = data.from_pictures(groups, seed=0)
    assert split.classes == ["apples", "Bananas", "cherries"] and len(split.test_y) == 3


def test_class_folders_at_the_top_and_a_cap_per_class():
    found = data.read_class_zip(make_zip(two_classes(n=5)), max_per_class=3)
    assert found.classes == ("a", "b") and found.counts == (3, 3)
    over = [s for s in found.skipped if s.key == "data.zip_skip.over_limit"]
    assert [s.name for s in over] == ["a/3.png", "a/4.png", "b/3.png", "b/4.png"]
    assert "3" in over[0].message("en") and over[0].message("en") != over[0].message("pt_BR")


def test_a_link_is_skipped_not_followed():
    link = zipfile.ZipInfo("a/passwd.png")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    found = data.read_class_zip(make_zip(two_classes() + [(link, "/etc/passwd")]))
    assert found.counts == (3, 3)
    assert [(s.name, s.key) for s in found.skipped] == [("a/passwd.png", "data.zip_skip.link")]


def claimed_png(width: int, height: int) -> bytes:
    """A 1 x 1 PNG whose header (IHDR, with its CRC) claims ``width`` x ``height`` pixels."""
    header = bytearray(png(np.zeros((1, 1, 3), np.uint8)))
    struct.pack_into(">II", header, 16, width, height)
    struct.pack_into(">I", header, 29, zlib.crc32(bytes(header[12:29])))
    return bytes(header)


def test_a_picture_over_the_pixel_cap_is_skipped_with_its_size():
    found = data.read_class_zip(make_zip(two_classes() + [("b/huge.png", claimed_png(7000, 7000))]))  # 49 million
    assert found.counts == (3, 3)
    (huge,) = found.skipped
    assert huge.key == "images.error.too_many_pixels" and "7000 × 7000" in huge.message("pt_BR")
    assert "40" in huge.message("en") and huge.message("en") != huge.message("pt_BR")


def test_a_billion_pixels_in_all_is_refused_before_decoding_more():
    # 27 pictures of 6000 x 6000 (36 million pixels each, under the cap of one) make 972 million: the 28th
    # would pass 1000 million, so the zip is refused before it is decoded
    archive = make_zip(two_classes() + [(f"b/big{i:02d}.png", claimed_png(6000, 6000)) for i in range(28)])
    err = refused(archive)
    assert err.key == "data.error.zip_too_many_pixels" and err.params == {"max_mp": 1000, "size": 64}
    en, pt = err.message("en"), err.message("pt_BR")
    assert "1000 million" in en and "1000 milhões" in pt and "64 × 64" in pt
    assert data.read_class_zip(make_zip(two_classes() + [(f"b/big{i:02d}.png", claimed_png(6000, 6000))
                                                         for i in range(27)])).counts == (3, 3)


# ---------------------------------------------------------------- refused archives
@pytest.mark.parametrize("name", ["../x.png", "a/../../x.png", "/etc/x.png", "C:\\x.png", "C:/x.png"])
def test_a_name_that_leaves_the_folder_is_refused(name):
    err = refused(make_zip(two_classes() + [(name, png(noise(1)))]))
    assert err.key == "data.error.zip_unsafe_path"
    assert_translated(err, name)


class CountingReads:
    """Counts the bytes zipfile hands out while a member is unpacked."""

    def __init__(self, monkeypatch):
        self.total = 0
        read = zipfile.ZipExtFile.read

        def counted(f, n=-1):
            out = read(f, n)
            self.total += len(out)
            return out
        monkeypatch.setattr(zipfile.ZipExtFile, "read", counted)


def test_a_zip_bomb_is_refused_at_the_cap_without_unpacking_it(monkeypatch):
    bomb = bytes(30 * class_zip.MB)                     # 30 MB of zeros: about 30 KB deflated
    archive = make_zip(two_classes() + [("b/bomb.png", bomb)])
    assert len(archive) < class_zip.MB
    reads = CountingReads(monkeypatch)
    err = refused(archive)
    assert err.key == "data.error.zip_member_too_big"
    assert class_zip.MAX_MEMBER < reads.total <= class_zip.MAX_MEMBER + 7 * 64 * 1024 + 1   # + the 6 pictures
    assert_translated(err, "b/bomb.png", "20 MB")


def test_a_streamed_member_of_unknown_size_stops_at_the_cap():
    class Pipe(io.RawIOBase):            # not seekable: zipfile writes the sizes after the data
        def __init__(self):
            self.buf = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.buf += b
            return len(b)
    pipe = Pipe()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in two_classes():
            zf.writestr(name, content)
        with zf.open("a/stream.png", "w") as member:
            for _ in range(25):
                member.write(bytes(class_zip.MB))
    archive = bytes(pipe.buf)
    assert struct.unpack_from("<H", archive, archive.rfind(b"PK\x03\x04") + 6)[0] & 0x8    # sizes come after
    assert refused(archive).key == "data.error.zip_member_too_big"


def test_a_member_that_lies_about_its_size_is_refused():
    honest = make_zip(two_classes() + [("a/liar.png", bytes(3 * class_zip.MB))])
    err = refused(patched(honest, "a/liar.png", file_size=100))       # says 100 bytes, holds 3 MB
    assert err.key == "data.error.zip_broken"
    assert_translated(err, "a/liar.png")


def test_too_much_in_all_is_refused_at_the_total_cap():
    archive = make_zip(two_classes() + [(f"a/big{i}.png", bytes(400_000)) for i in range(4)])
    err = refused(archive, max_total=class_zip.MB)
    assert err.key == "data.error.zip_too_big"
    assert_translated(err, "1 MB")


def test_200_mb_in_all_is_the_default_total_cap(monkeypatch):
    big = bytes(19 * class_zip.MB)                  # under the 20 MB of one member; 11 of them pass 200 MB
    archive = make_zip(two_classes() + [(f"b/big{i:02d}.png", big) for i in range(11)], level=1)
    reads = CountingReads(monkeypatch)
    err = refused(archive)
    assert err.key == "data.error.zip_too_big" and err.params == {"max_mb": 200}
    assert 200 * class_zip.MB < reads.total <= 200 * class_zip.MB + 64 * 1024 + 1
    assert_translated(err, "200 MB")


def test_20_classes_are_read_and_21_refused():
    tiny = png(noise(5, 8, 8))
    twenty = make_zip([(f"class {c:02d}/{i}.png", tiny) for c in range(20) for i in range(3)])
    assert len(data.read_class_zip(twenty).classes) == 20
    err = refused(make_zip([(f"class {c:02d}/{i}.png", tiny) for c in range(21) for i in range(3)]))
    assert err.key == "data.error.zip_too_many_classes" and err.params == {"n": 21, "max": 20}
    assert_translated(err, "21", "20")


def test_2000_files_are_read_and_2001_refused_before_reading():
    notes = [(f"a/{i}.txt", b"") for i in range(1995)]
    archive = make_zip(two_classes() + notes[:-1], method=zipfile.ZIP_STORED)            # 2000 files
    assert len(data.read_class_zip(archive).skipped) == 1994
    err = refused(make_zip(two_classes() + notes, method=zipfile.ZIP_STORED))
    assert err.key == "data.error.zip_too_many_files"
    assert err.params == {"n": 2001, "max": 2000}
    en, pt = err.message("en"), err.message("pt_BR")
    assert "2001" in en and "2000" in en and "2001" in pt and "2000" in pt and en != pt


@pytest.mark.parametrize("name", ["a/inner.zip", "a/disguised.png"])
def test_a_zip_inside_the_zip_is_refused(name):
    err = refused(make_zip(two_classes() + [(name, make_zip(two_classes()))]))
    assert err.key == "data.error.zip_nested"
    assert_translated(err, name)


def test_an_encrypted_member_is_refused():
    err = refused(patched(make_zip(two_classes()), "b/1.png", flag=0x1))
    assert err.key == "data.error.zip_encrypted"
    assert_translated(err, "b/1.png")


@pytest.mark.parametrize("junk", [b"", b"hello, I am text", png(noise(3))])
def test_what_is_not_a_zip_is_refused(junk):
    err = refused(junk)
    assert err.key == "data.error.zip_not_zip"
    assert_translated(err)


def test_a_damaged_zip_is_refused():
    archive = bytearray(make_zip(two_classes()))
    start = archive.find(b"PK\x03\x04", 4) - 200          # inside the first member's compressed bytes
    archive[start:start + 50] = bytes(50)
    err = refused(bytes(archive))
    assert err.key == "data.error.zip_broken"
    assert_translated(err, "a/0.png")


def test_an_upload_over_the_limit_is_refused_with_its_size():
    archive = make_zip(two_classes(n=60))
    mb = len(archive) / 2**20
    err = refused(archive, max_upload=class_zip.MB)
    assert err.key == "data.error.zip_upload_too_big" and mb > 1
    assert_translated(err, " 1 MB")
    assert f"{mb:.1f} MB" in err.message("en") and f"{mb:.1f} MB".replace(".", ",") in err.message("pt_BR")


# ---------------------------------------------------------------- not enough to train on
def test_one_class_is_not_enough():
    err = refused(make_zip(two_classes()[:3] + [("read me.txt", b"hi")]))
    assert err.key == "data.error.zip_one_class" and err.params == {"name": "a", "skipped": 1}
    assert_translated(err, "(a)")


def test_pictures_without_class_folders_are_explained():
    err = refused(make_zip([(f"{i}.png", png(noise(i))) for i in range(4)]))
    assert err.key == "data.error.zip_no_classes" and err.params == {"skipped": 4}
    assert_translated(err, "4")


def test_too_few_pictures_in_a_class_are_named():
    members = two_classes() + [("c/0.png", png(noise(50))), ("c/1.png", png(noise(51))), ("c/2.png", b"broken")]
    err = refused(make_zip(members))
    assert err.key == "data.error.zip_too_few"
    assert_translated(err, "c (2)", "3")
