"""front.png's layout (issue 22, app defect 8): the thumbnails' titles never run into each other or the figure's."""

import dataclasses
import itertools

import pytest

from moss_engine.resources import sample_paths
from moss_engine.run.pipeline import compute_front
from moss_engine.run.plot import front_figure, plot_front, thumbnail_title
from moss_engine.settings import make_settings


@pytest.fixture(scope="module")
def tiny_front():
    picture, music = sample_paths()
    return compute_front(
        make_settings(
            picture,
            music,
            quality="preview",
            duration_s=1.0,
            steps=2,
            points=4,
            audio_objective="logmel",
            device="cpu",
            phase_iterations=0,
        )
    )


def title_boxes(fig):
    """The window extents (pixels) of the figure's title and of each thumbnail's title, after a real draw."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    insets = [ax for ax in fig.axes if ax.images]  # the thumbnails (the plots, one or two, hold no image)
    titles = {f"thumbnail {n}": inset.title.get_window_extent(renderer) for n, inset in enumerate(insets)}
    titles["figure"] = fig._suptitle.get_window_extent(renderer)
    return titles, [ax.get_window_extent(renderer) for ax in fig.axes], fig.bbox, insets, renderer


def assert_apart(fig):
    titles, every_axes, page, thumbnails, renderer = title_boxes(fig)
    insets = [ax.get_window_extent(renderer) for ax in thumbnails]
    assert len(insets) == 3
    for (a, box_a), (b, box_b) in itertools.combinations(titles.items(), 2):
        assert not box_a.overlaps(box_b), (a, box_a, b, box_b)
    for n, inset in enumerate(insets):
        title = titles[f"thumbnail {n}"]
        assert inset.x0 - 1 <= title.x0 and title.x1 <= inset.x1 + 1, (n, title, inset)  # no wider than its picture
        assert title.y0 >= inset.y1 and title.y1 <= page.y1, (n, title, inset)  # above it, on the page
        for other in every_axes:  # neither a thumbnail nor the plots (the front by ear beside, where it was heard)
            assert not title.overlaps(other), (n, title, other)


def test_the_thumbnail_titles_of_a_real_front_never_overlap(tiny_front, tmp_path):
    assert len(tiny_front.points) >= 3
    assert_apart(front_figure(tiny_front))
    plot_front(tiny_front, tmp_path / "front.png")
    assert (tmp_path / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_longest_titles_still_fit(tiny_front):
    """Issue 22 saw "MOS 5.0point 3:": the widest numbers a title can carry, each title fitted to its thumbnail."""
    points = [dataclasses.replace(p, mos=5.0, audio=1.23456e-05 * (i + 1)) for i, p in enumerate(tiny_front.points)]
    fig = front_figure(dataclasses.replace(tiny_front, points=points))
    assert_apart(fig)
    assert [ax.title.get_text() for ax in fig.axes if ax.images][0] == thumbnail_title(0, points[0])
    assert thumbnail_title(3, points[3]).endswith("\naudio loss 4.94e-05, MOS 5.0")


def test_a_name_the_font_cannot_draw_gives_no_warning(tiny_front, tmp_path):
    """Issue 26 item 7: a picture named in a script the plot's font lacks (CJK, Gothic) draws front.png without
    matplotlib's "Glyph ... missing from font" warnings on stderr (the character shows as the font's box)."""
    import warnings

    settings = dataclasses.replace(tiny_front.settings, image=tmp_path / "\u6f22\u5b57 \U00010348.png")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot_front(dataclasses.replace(tiny_front, settings=settings), tmp_path / "front.png")
    assert [str(w.message) for w in caught] == [] and (tmp_path / "front.png").stat().st_size > 10000
