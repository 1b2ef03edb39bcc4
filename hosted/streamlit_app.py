"""The hosted demo's entrypoint (Streamlit Community Cloud: "New app", main file ``hosted/streamlit_app.py``).

It is ``app.py``, run from here. This folder exists for ``requirements.txt`` beside it: Community
Cloud installs the dependency file next to the entrypoint before the one at the repository's root,
and this one asks for CPU-only torch (docs/DEPLOY.md). Community Cloud puts only this folder on
``sys.path``, so the repository's root goes there first (for ``import cnnviz``); app.py gives
``st.navigation`` the lessons' absolute paths, so they resolve from here too.
"""

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
