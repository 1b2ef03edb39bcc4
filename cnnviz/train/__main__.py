"""``python -m cnnviz.train NAME``: rebuild a bundled model (``cnnviz.train.bundled.main``)."""

from cnnviz.train.bundled import main

raise SystemExit(main())
