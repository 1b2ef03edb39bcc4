"""Re-measure every bundled model's test accuracy through the app's own path.

    python tools/measure_cards.py                 # print the numbers
    python tools/measure_cards.py --write         # and write them into assets/models/<name>.json
    python tools/measure_cards.py fashion         # one model

Each test image goes in as the RGB PIL picture a learner would give, through
``LoadedModel.preprocess``, then the network (``cnnviz.models.bundled.app_path_accuracy``):
on the full test set in $CNNVIZ_DATA or ../shared/data, and on the bundled sample
(assets/data). ``python -m cnnviz.train <name>`` records the same numbers when it rebuilds a model.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cnnviz.models.bundled import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
