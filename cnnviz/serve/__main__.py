"""``python -m cnnviz.serve``: the command (``cnnviz.serve.main``; ``--help`` lists its options)."""

import sys

from cnnviz.serve import main

sys.exit(main())
