"""``genlab tour``: every family's short recipe on built-in data, one self-contained HTML gallery.

The sections are listed in ``genlab.families.TOUR``; the contract they are written against is
:mod:`genlab.core.tourkit`. See :mod:`genlab.tour.runner` for the folder layout, resume and exit rules.
"""

from __future__ import annotations

from .runner import TourResult, read_sections, run_tour

__all__ = ["TourResult", "read_sections", "run_tour", "write_gallery"]


def write_gallery(tour_dir):
    from .gallery import write_gallery as _w
    return _w(tour_dir)
