"""Optional dataset download (cnnviz.data.download_dataset), tested offline with file:// mirrors."""

import gzip
import shutil

import pytest

from cnnviz import data

SHARED = data.data_root()
needs_mnist = pytest.mark.skipif(not data.is_available("mnist"), reason=f"MNIST not in {SHARED}")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A local mirror holding gzip archives of the real MNIST files, as the official mirrors do."""
    folder = tmp_path_factory.mktemp("mirror")
    for file in data.DOWNLOADS["mnist"][1]:
        with open(SHARED / "MNIST" / "raw" / file, "rb") as src, gzip.open(folder / f"{file}.gz", "wb", 1) as dst:
            shutil.copyfileobj(src, dst)
    return folder


@needs_mnist
def test_download_unpacks_checks_and_makes_the_dataset_usable(mirror, tmp_path):
    seen = []
    folder = data.download_dataset("mnist", root=tmp_path, mirrors=(f"file://{mirror}/",),
                                   progress=lambda f, done, total: seen.append((f, done, total)))
    assert folder == tmp_path / "MNIST" / "raw"
    for file in data.DOWNLOADS["mnist"][1]:
        assert (folder / file).read_bytes() == (SHARED / "MNIST" / "raw" / file).read_bytes()
    assert data.is_available("mnist", tmp_path)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]     # no temporary files left
    assert {f for f, _, _ in seen} == set(data.DOWNLOADS["mnist"][1])
    assert all(done <= total for _, done, total in seen)
    split = data.few_shot("mnist", 3, root=tmp_path, test_limit=50)
    assert len(split.train_y) == 20
    # a second call keeps what is there and fetches nothing
    assert data.download_dataset("mnist", root=tmp_path, mirrors=("http://127.0.0.1:9/",)) == folder


@needs_mnist
def test_a_file_that_is_not_the_official_one_is_refused(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for file in data.DOWNLOADS["mnist"][1]:
        (bad / f"{file}.gz").write_bytes(gzip.compress(b"not MNIST"))
    with pytest.raises(data.DataError) as err:
        data.download_dataset("mnist", root=tmp_path / "root", mirrors=(f"file://{bad}/",))
    assert err.value.key == "data.error.download_corrupt"
    assert not list((tmp_path / "root" / "MNIST" / "raw").iterdir())


def test_offline_the_message_says_what_to_copy_where(tmp_path):
    with pytest.raises(data.DataError) as err:
        data.download_dataset("fashion", root=tmp_path, mirrors=("http://127.0.0.1:9/",), timeout=5)
    assert err.value.key == "data.error.download_failed"
    message = err.value.message("pt_BR")
    assert str(tmp_path / "FashionMNIST" / "raw") in message and "Sem internet" in message


def test_unwritable_folder_and_unknown_dataset(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(data.DataError) as err:
        data.download_dataset("mnist", root=blocker)
    assert err.value.key == "data.error.not_writable"
    with pytest.raises(data.DataError) as err:
        data.download_dataset("cifar10-subset", root=tmp_path)
    assert err.value.key == "data.error.not_downloadable"
