"""A learner's classes in one zip, Teachable-Machine style: a folder per class, pictures inside.

``read_class_zip(data)`` -> ``ClassZip`` (class names in folder order, their pictures at the size
the Train lesson keeps, the files left out and why) or a ``DataError`` saying, in the learner's
language, what is wrong with the archive. The archive is hostile until proven otherwise:

- the upload is at most ``max_upload`` bytes, with at most ``max_files`` files; the central
  directory's entries are counted, the bytes of each member as they are unpacked: the sizes and
  the compression ratio the archive declares are never used. One member stops at ``max_member``
  bytes, all of them together at ``max_total`` (a zip bomb is refused without being unpacked);
- a name that climbs out (``../``), starts at a root (``/etc/x.png``) or a drive (``C:``),
  an encrypted member, a zip inside the zip, a broken archive: refused before any picture is kept;
- links are not followed, files that are no pictures (by extension) or that ``images.load_image``
  can't decode (its pixel cap and decompression-bomb guard included) are skipped and listed, and so
  are pictures at the root (no class folder); ``__MACOSX/``, hidden files, ``Thumbs.db`` and
  ``desktop.ini`` are ignored without a word;
- a single folder that wraps the class folders (a zipped folder) is looked through.

Nothing is written to disk. torch is imported inside the functions.
"""

from __future__ import annotations

import io
import re
import stat
import warnings
import zipfile
import zlib
from dataclasses import dataclass

from cnnviz.base.errors import CnnvizError
from cnnviz.data.datasets import DataError
from cnnviz.data.splits import OWN_SIZE, picture_tensor

MB = 2**20
MAX_UPLOAD = 20 * MB          # what the app accepts as one upload (the lesson passes Streamlit's own limit)
MAX_FILES = 2000              # entries in the archive that are files
MAX_TOTAL = 200 * MB          # unpacked, all members together
MAX_MEMBER = 20 * MB          # unpacked, one member (images.MAX_BYTES: a larger picture is refused anyway)
MAX_PIXELS = 1_000_000_000  # decoded, all pictures together (one picture: images.MAX_PIXELS)
MAX_CLASSES = 20
MIN_PER_CLASS = 3             # one picture each for training, validation and test (splits.from_pictures)
CHUNK = 64 * 1024
_SILENT_NAMES = {"thumbs.db", "desktop.ini", "__macosx"}
_UNSAFE = re.compile(r"^(/|[A-Za-z]:)|(^|/)\.\.(/|$)")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


@dataclass(frozen=True)
class Skipped:
    """A file of the archive left out, and why: a catalog key and its numbers."""

    name: str
    key: str
    params: tuple = ()

    def message(self, lang: str) -> str:
        from cnnviz.i18n import t

        return t(self.key, lang, **dict(self.params))


@dataclass(frozen=True)
class ClassZip:
    """The classes found in a zip. ``pictures[i]``: class ``classes[i]``'s pictures, uint8
    (3, ``OWN_SIZE``, ``OWN_SIZE``) tensors (the centred square, as ``splits.picture_tensor`` cuts
    it); ``files[i]``: the member each came from; ``skipped``: the files left out, with a reason."""

    classes: tuple[str, ...]
    pictures: tuple[tuple, ...]
    files: tuple[tuple[str, ...], ...]
    skipped: tuple[Skipped, ...]

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(len(p) for p in self.pictures)

    def groups(self) -> list[tuple[str, list]]:
        """[(class name, float (3, H, W) pictures in [0, 1])]: what ``splits.from_pictures`` takes."""
        return [(name, [p.float() / 255 for p in pics]) for name, pics in zip(self.classes, self.pictures)]


def _parts(name: str) -> list[str]:
    """A member's path as folders and file name; Windows tools may write backslashes."""
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def _is_link(info: zipfile.ZipInfo) -> bool:
    """A symbolic link (Unix mode bits in the high half of ``external_attr``): never followed."""
    return stat.S_ISLNK(info.external_attr >> 16)


def _silent(parts: list[str]) -> bool:
    """macOS's resource forks, hidden files and Windows' thumbnails: nobody meant them as pictures."""
    return any(p.startswith(".") or p.casefold() in _SILENT_NAMES for p in parts)


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].casefold() if "." in name else ""


def _check_entries(zf: zipfile.ZipFile, max_files: int) -> list[tuple[zipfile.ZipInfo, list[str]]]:
    """The archive's files with their paths, refused whole for an unsafe name, an encrypted member,
    a zip inside or too many files. Directories and ignored files are left out."""
    files = [info for info in zf.infolist() if not info.is_dir()]
    if len(files) > max_files:
        raise DataError("data.error.zip_too_many_files", n=len(files), max=max_files)
    kept = []
    for info in files:
        if _UNSAFE.search(info.filename.replace("\\", "/")):
            raise DataError("data.error.zip_unsafe_path", name=info.filename)
        parts = _parts(info.filename)
        if not parts or _silent(parts):
            continue
        if info.flag_bits & 0x1:
            raise DataError("data.error.zip_encrypted", name=info.filename)
        if _extension(parts[-1]) == "zip":
            raise DataError("data.error.zip_nested", name=info.filename)
        kept.append((info, parts))
    return kept


def _unwrap(entries: list[tuple[zipfile.ZipInfo, list[str]]]) -> list[tuple[zipfile.ZipInfo, list[str]]]:
    """A zipped folder: one top folder holding the class folders is looked through."""
    tops = {parts[0] for _, parts in entries if len(parts) > 1}
    if (len(tops) == 1 and all(len(parts) > 1 for _, parts in entries)
            and any(len(parts) > 2 for _, parts in entries)):
        return [(info, parts[1:]) for info, parts in entries]
    return entries


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The member's bytes, unpacked in chunks and counted, whatever the archive says its size is:
    reading stops one byte past ``limit`` (the caller tells which cap that was)."""
    out = io.BytesIO()
    try:
        with zf.open(info) as f:
            while out.tell() <= limit and (chunk := f.read(min(CHUNK, limit + 1 - out.tell()))):
                out.write(chunk)
    except NotImplementedError:
        raise DataError("data.error.zip_method", name=info.filename) from None
    except RuntimeError:      # zipfile's "password required"
        raise DataError("data.error.zip_encrypted", name=info.filename) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        raise DataError("data.error.zip_broken", name=info.filename) from None
    return out.getvalue()


def _declared_pixels(raw: bytes) -> int:
    """Width x height as the picture's header says (nothing decoded); 0 if it can't be read, then
    ``images.load_image`` says why."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(raw)) as im:
                return im.size[0] * im.size[1]
    except Exception:  # noqa: BLE001 - any failure here is load_image's to explain
        return 0


def read_class_zip(data: bytes, *, max_upload: int = MAX_UPLOAD, max_files: int = MAX_FILES,
                   max_total: int = MAX_TOTAL, max_member: int = MAX_MEMBER, max_pixels: int | None = None,
                   max_total_pixels: int = MAX_PIXELS,
                   max_classes: int = MAX_CLASSES, min_per_class: int = MIN_PER_CLASS,
                   max_per_class: int | None = None, size: int = OWN_SIZE) -> ClassZip:
    """A zip with a folder per class -> ``ClassZip``, or ``DataError`` (a ``CnnvizError``) saying why not.

    Classes are the folders, sorted case-insensitively (folders whose names differ only in case are
    one class); a class keeps its first ``max_per_class`` readable pictures in name order (all if
    None), the others are listed as skipped. ``max_pixels``: a picture's cap (``images.MAX_PIXELS``
    if None); ``max_total_pixels``: all pictures' together, as their headers say before each is
    decoded (a few thousand tiny PNGs of 40 million blank pixels each would take minutes). At least 2 classes and ``min_per_class`` pictures in each, at most ``max_classes``.
    """
    import torch

    from cnnviz.maths import images

    data = bytes(data)
    if len(data) > max_upload:
        raise DataError("data.error.zip_upload_too_big", mb=round(len(data) / MB, 1), max_mb=max_upload // MB)
    # a cheap bound before zipfile builds one object per entry of the central directory
    headers = data.count(b"PK\x01\x02")
    if headers > 2 * max_files + 100:
        raise DataError("data.error.zip_too_many_files", n=headers, max=max_files)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError):
        raise DataError("data.error.zip_not_zip") from None
    with zf:
        entries = _unwrap(_check_entries(zf, max_files))
        skipped: list[Skipped] = []
        by_class: dict[str, tuple[str, list]] = {}     # casefolded name -> (name, [members])
        for info, parts in sorted(entries, key=lambda e: ([p.casefold() for p in e[1]], e[1])):
            if _is_link(info):
                skipped.append(Skipped(info.filename, "data.zip_skip.link"))
            elif _extension(parts[-1]) not in images.EXTENSIONS:
                skipped.append(Skipped(info.filename, "data.zip_skip.not_picture"))
            elif len(parts) == 1:
                skipped.append(Skipped(info.filename, "data.zip_skip.no_folder"))
            else:
                by_class.setdefault(parts[0].casefold(), (parts[0].strip(), []))[1].append(info)
        if len(by_class) > max_classes:
            raise DataError("data.error.zip_too_many_classes", n=len(by_class), max=max_classes)
        used = pixels = 0
        max_pixels = max_pixels or images.MAX_PIXELS
        classes, pictures, files = [], [], []
        for key in sorted(by_class):
            name, members = by_class[key]
            kept, names = [], []
            for info in members:
                if max_per_class is not None and len(kept) >= max_per_class:
                    skipped.append(Skipped(info.filename, "data.zip_skip.over_limit", (("max", max_per_class),)))
                    continue
                raw = _read_member(zf, info, min(max_member, max_total - used))
                if len(raw) > max_member:
                    raise DataError("data.error.zip_member_too_big", name=info.filename, max_mb=max_member // MB)
                used += len(raw)
                if used > max_total:
                    raise DataError("data.error.zip_too_big", max_mb=max_total // MB)
                if raw.startswith(_ZIP_MAGIC):
                    raise DataError("data.error.zip_nested", name=info.filename)
                declared = _declared_pixels(raw)
                if declared <= max_pixels:
                    pixels += declared
                    if pixels > max_total_pixels:
                        raise DataError("data.error.zip_too_many_pixels", max_mp=max_total_pixels // 1_000_000,
                                        size=size)
                try:
                    img = images.load_image(raw, max_pixels=max_pixels, max_bytes=max_member)
                except CnnvizError as err:
                    skipped.append(Skipped(info.filename, err.key, tuple(err.params.items())))
                    continue
                kept.append((picture_tensor(img, size) * 255).round().to(torch.uint8))
                names.append(info.filename)
            classes.append(name)
            pictures.append(tuple(kept))
            files.append(tuple(names))
    found = ", ".join(classes)
    if not classes:
        raise DataError("data.error.zip_no_classes", skipped=len(skipped))
    if len(classes) < 2:
        raise DataError("data.error.zip_one_class", name=found, skipped=len(skipped))
    few = [(name, len(p)) for name, p in zip(classes, pictures) if len(p) < min_per_class]
    if few:
        raise DataError("data.error.zip_too_few", min=min_per_class, skipped=len(skipped),
                        classes=", ".join(f"{name} ({n})" for name, n in few))
    return ClassZip(tuple(classes), tuple(pictures), tuple(files), tuple(skipped))
