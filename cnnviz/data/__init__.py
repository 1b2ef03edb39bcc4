"""The data layer in one name, for notebooks, scripts and lessons: ``from cnnviz import data``, then
``data.load_dataset``, ``data.few_shot``, ``data.download_dataset``, ``data.DATASETS``...

Each name has its home, where it is defined, documented and patched in tests:

- ``cnnviz.data.datasets``: what each dataset is (``DATASETS``), where it lives (``data_root``,
  ``DataError``), loading it offline, the bundled sample, tensors and normalization;
- ``cnnviz.data.splits``: small training sets (``few_shot``, the learner's own pictures, ``adapt``);
- ``cnnviz.data.download``: the optional download;
- ``cnnviz.data.class_zip``: the learner's classes in one zip (``read_class_zip``).

Those modules never import this one (it sits on top of them: docs/ARCHITECTURE.md's layers).
Importing it loads no torch.
"""

from __future__ import annotations

from cnnviz.data.datasets import (DATASETS, REPO, SAMPLE_DIR, SAMPLE_TRAIN_PER_CLASS, DataError, DatasetInfo,
                                  SampleDataset, as_tensors, cifar10_name, data_root, example_image,
                                  example_label, first_test_images, first_test_pictures, has_sample,
                                  is_available, load_dataset, load_sample, missing_files, normalize,
                                  sample_path, source, synthetic_dataset, tensor_dataset)
from cnnviz.data.download import DOWNLOADS, download_dataset  # noqa: F401
from cnnviz.data.class_zip import ClassZip, Skipped, read_class_zip  # noqa: F401
from cnnviz.data.splits import (OWN_SIZE, SmallSplit, adapt, few_shot, from_pictures, full_split,  # noqa: F401
                                picture_tensor)


def dataset_for_model(model_name: str) -> str | None:
    """The dataset a bundled model was trained on (its card's data), None for other models."""
    from cnnviz.models.specs import BUNDLED

    spec = BUNDLED.get(model_name)
    return spec.dataset if spec else None
