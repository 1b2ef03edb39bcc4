"""The only streamlit-aware part of cnnviz: shared widgets and session helpers, one module per subject.

Lessons stay thin: they call these widgets and the cnnviz functions, and show figures. Every string
goes through ``t`` (the learner's language); every ``CnnvizError`` is shown with ``show_error`` in
that language, never as a traceback. ``from cnnviz import ui; ui.name`` reaches every widget; the
modules say where each one lives:

- ``language``: the learner's language and number format, messages, errors (``t``, ``num``, ``show_error``).
- ``links``: state in the URL (``url_seed``, ``url_keep``), Copy link, presentation mode.
- ``inputs``: a decimal number in the learner's format, sliders kept in range.
- ``pictures``: the image picker. ``kernels``: the kernel picker. ``models``: the model picker.
- ``memo``: layer outputs shared per picture, memos per learner and per network.
- ``confidence``: the note beside every prediction. ``inside``: filters, top images, the digit canvas.
- ``featviz``: Inside's feature visualization (every channel's optimized picture, kept for the class).
- ``heavywork``: heavy work through the server's line, training drawn live.
- ``training``: the Train lesson's shared training sets and layer plans. ``autoencoder``: the shared VAE.
- ``explore``: the Datasets lesson's shared pictures and histograms.
- ``backprop``: the Backpropagation lesson's shared training runs and digits.
- ``fool``: the Fool-the-network lesson's accuracy against epsilon, once per network and server.
- ``stepping``: stepping through positions with Play. ``predict``: predict, then reveal.
- ``progress``: the course, goals, summaries, the sidebar's progress. ``selfcheck``: the self-checks.
- ``session_client``: pages opened over Streamlit's protocol (``cnnviz.serve`` runs it as a process to warm workers).
"""

from cnnviz.base import memory as _memory

_memory.tune_malloc()   # before the script threads allocate: 2 arenas, big blocks given back (cnnviz.base.memory)

from .language import lang, t, num, number_format, plot, labels, message, language_picker, show_error  # noqa: F401
from .links import (  # noqa: F401
    PRESENT_VALUES, link_start, link_opened, link_end, url_seed, url_keep, encode_kernel, decode_kernel, link_url, copy_link, presenting, PRESENT_CSS, present_mode,
)
from .inputs import decimal_input, decimal_slider, keep_in_range  # noqa: F401
from .pictures import WORKING_MAX_SIDE, WORLD_PICTURES, image, model_dataset, image_picker, decode_uploads  # noqa: F401
from .memo import layer_outputs, session_memo, CLASS_MEMO_ENTRIES, model_memo  # noqa: F401
from .confidence import REFERENCE_PICTURES, LEARNER_REFERENCE_PICTURES, model_reference, confidence_note  # noqa: F401
from .kernels import kernel_picker  # noqa: F401
from .models import shared_model, OWN, TRAINED, model_picker, zoo_download_button  # noqa: F401
from .inside import digit_canvas, show_filters, TOP_IMAGES_N, kept_top_images, top_images, top_panels, show_top_images  # noqa: F401
from .featviz import feature_grid, one_channel  # noqa: F401
from .heavywork import WAIT_POLL, HeavyJob, heavy, training_status, heavy_memo  # noqa: F401
from .stepping import PLAY_TICK, playing, step_controls  # noqa: F401
from .predict import (  # noqa: F401
    predict_context, predict_state, predict_set, predict_skip, predict_again, predict_buttons, predict_choice, click_on,
    mark_guess,
)
from .progress import (  # noqa: F401
    SELF_CHECK_OPENED, SELF_CHECK_RESULTS, course, mark_opened, lesson_start, lesson_goal, lesson_summary, next_lesson, progress_sidebar, progress_report,
)
from .selfcheck import lesson_end, self_check  # noqa: F401
from .training import small_split, layer_plan, full_split, architecture_editor  # noqa: F401
from .autoencoder import vae, vae_card, vae_test_codes, vae_manifold  # noqa: F401
from .explore import dataset_collection, dataset_histogram  # noqa: F401
from .backprop import activation_runs, first_digits  # noqa: F401
from .fool import CURVE_PICTURES, CURVE_GRID, robustness_curve  # noqa: F401
