"""Figures shared by the lessons: matrices with readable numbers, maps and images.

Big things (images, activation maps) are PIL images: cheap to send to 30
browsers. Small matrices (a receptive field, a kernel) are HTML tables with
every number written in its cell: they build in a millisecond, so stepping a
kernel stays instant, and hovering a cell names its row and column.

One module per kind of output; every name is also here (``figures.matrix_html``):

- ``numbers``: ``fmt``, ``fmt_tex``, ``latex_text`` (numbers in the learner's format);
- ``scale``: the colour tables and the rule from values to colours (``Scale``, ``map_scale``,
  ``colorize``), ``display_range`` / ``stretched`` for dim pictures;
- ``markup``: HTML (``matrix_html``, ``legend_html``, ``pooling_html``, ``steps_card``);
- ``pictures``: PIL images (``upscale``, ``overlay``, ``map_grid``, ``locate``, ``zoomed``...);
- ``svg``: ``architecture_svg``;
- ``plots``: plotly charts, imported only when one is built;
- ``exercise``: what a self-check question draws with its prompt (``exercise_panels``, ``Panel``).
"""

from .exercise import Panel, exercise_panels, lines_figure, panels_per_row
from .markup import WINDOW_BANDS, legend_html, matrix_html, pooling_html, steps_card
from .numbers import fmt, fmt_tex, latex_text, significant_tex
from .pictures import (channel_image, draw_box, filling_in, filter_tiles, locate, map_grid, mark_point,
                       neighbourhood, overlay, picture, picture_row, png_bytes, png_shared, upscale, zoomed)
from .plots import (confusion_figure, count_bars, curves_figure, growth_figure, heatmap, latent_figure, log_bars,
                    pixel_histogram, probability_bars, rank_corr_figure, share_bars, training_figure)
from .scale import (ACCENT, CHOSEN, DIVERGING, HEAT, MUTED, SECOND, SEQUENTIAL, Scale, colorize, display_range,
                    map_scale, stretched)
from .svg import architecture_svg

__all__ = [
    "ACCENT", "CHOSEN", "DIVERGING", "HEAT", "MUTED", "Panel", "SECOND", "SEQUENTIAL", "WINDOW_BANDS", "Scale",
    "architecture_svg", "channel_image", "colorize", "confusion_figure", "count_bars", "curves_figure", "display_range",
    "draw_box",
    "exercise_panels", "filling_in", "filter_tiles", "fmt", "fmt_tex", "growth_figure", "heatmap", "latent_figure",
    "latex_text", "legend_html", "lines_figure", "locate", "log_bars", "map_grid", "map_scale", "mark_point",
    "matrix_html", "neighbourhood", "overlay", "panels_per_row", "picture", "picture_row",
    "pixel_histogram", "png_bytes", "png_shared", "pooling_html",
    "probability_bars", "rank_corr_figure", "share_bars", "steps_card", "stretched", "training_figure",
    "upscale", "zoomed",
]
