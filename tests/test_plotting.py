import itertools

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

from d2lstyle import show_images, use_lecture_style  # noqa: E402
from d2lstyle.live import LivePlot  # noqa: E402
from d2lstyle.plotting import fit_title  # noqa: E402


def test_show_images_lays_out_titled_panels_without_axes():
    images = [torch.rand(1, 3, 10, 20), torch.rand(3, 10, 20), torch.rand(10, 20)]  # image, image, feature map
    fig = show_images(images, ["a", "b", "c"], ncols=2)
    axes = fig.get_axes()
    assert len(axes) == 4  # a 2x2 grid, the fourth panel empty
    assert [ax.get_title() for ax in axes] == ["a", "b", "c", ""]
    assert not any(ax.axison for ax in axes)
    assert [len(ax.get_images()) for ax in axes] == [1, 1, 1, 0]


def test_titles_are_broken_to_fit_their_panels_at_the_lecture_size():
    """With 20 pt titles, notebook 6's three titles of about 30 characters ran into each other (issue 23)."""
    title = "start: the content, recoloured"
    use_lecture_style()
    try:
        fitted = fit_title(title, width=3.3)  # a panel 2.2 inches high, 3:2
        fig = show_images([torch.rand(1, 3, 10, 15)] * 3, [title] * 3, height=2.2)
        fig.canvas.draw()
        boxes = [ax.title.get_window_extent() for ax in fig.get_axes()]
    finally:
        use_lecture_style(False)
    assert fitted.replace("\n", " ") == title and max(map(len, fitted.splitlines())) <= 21
    assert all(left.x1 < right.x0 for left, right in itertools.pairwise(boxes))  # the titles do not overlap
    assert fit_title(title, width=10) == title and fit_title("a\nb", width=10) == "a\nb"


def panels_a_row(fig) -> list[int]:
    rows = [ax.get_subplotspec().rowspan.start for ax in fig.get_axes() if ax.get_images()]
    return [rows.count(r) for r in sorted(set(rows))]


def test_rows_are_balanced_so_no_panel_is_alone_on_a_row():
    """Issue 37: with at most 4 a row, 5 panels were 4 + 1, the last one alone at half the size it could have."""
    layouts = {n: panels_a_row(show_images([torch.rand(1, 3, 8, 12)] * n)) for n in range(1, 10)}
    assert layouts == {1: [1], 2: [2], 3: [3], 4: [4], 5: [3, 2], 6: [3, 3], 7: [4, 3], 8: [4, 4], 9: [3, 3, 3]}


def test_titles_of_a_figure_take_the_same_number_of_lines():
    use_lecture_style()
    try:
        fig = show_images([torch.rand(1, 3, 10, 15)] * 3, ["noise", "a long title that has to wrap", "content"])
        fig.canvas.draw()
        boxes = [ax.title.get_window_extent() for ax in fig.get_axes()]
    finally:
        use_lecture_style(False)
    assert {ax.get_title().count("\n") for ax in fig.get_axes()} == {1}
    assert len({round(b.y0) for b in boxes}) == 1 and len({round(b.y1) for b in boxes}) == 1  # in line


def test_a_grid_has_row_and_column_labels_instead_of_repeated_titles():
    fig = show_images([torch.rand(1, 3, 8, 8)] * 6, row_labels=["relu1_1", "all five"], col_labels=["1", "10", "100"])
    fig.canvas.draw()
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["1", "10", "100", "", "", ""]
    for ax, label in zip(axes[::3], ["relu1_1", "all five"], strict=True):
        (text,) = ax.texts
        box, panel = text.get_window_extent(), ax.get_window_extent()
        assert text.get_text() == label and 0 <= box.x0 and box.x1 <= panel.x0  # left of its row, in the figure
        assert panel.y0 < (box.y0 + box.y1) / 2 < panel.y1


def test_live_plot_redraws_within_its_time_budget_and_draws_the_last_step(monkeypatch):
    import IPython.display

    import d2lstyle.live

    clock = FakeClock()
    monkeypatch.setattr(d2lstyle.live, "perf_counter", clock)
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda fig, display_id: shown.append(fig) or DummyHandle(shown))
    monkeypatch.setattr(LivePlot, "draw", lambda self, step, img: clock.advance(0.1) or shown.append(step))
    live = LivePlot(steps=40, budget=0.05, notebook=True)
    for step in range(1, 41):
        clock.advance(1.0)  # one optimisation step takes 1 s, one redraw 0.1 s: 2 s apart keeps drawing at 5 %
        live(step, torch.rand(1, 3, 8, 8), {"content": 1.0 / step, "style": 2.0, "tv": 0.1, "total": 3.0})
    # A redraw 0.1 s after a step of 1 s may come 0.1 / 0.05 = 2 s after the last one: every other step, at once
    # at the first step, and always at the last.
    assert shown == [*range(1, 40, 2), 40]
    assert live.draws == len(shown)
    assert live.drawing <= 0.05 * clock.now + 0.1  # the budget, give or take the last draw
    assert len(live.history) == 40


def test_live_plot_draws_the_losses_in_place():
    import matplotlib.pyplot as plt

    live = LivePlot(steps=3, notebook=True)
    for step in range(1, 4):
        live.history.append({"content": 1.0 / step, "style": 2.0, "tv": 0.1, "total": 3.0})
    live.handle = DummyHandle([])  # as if displayed once: later draws update that display
    live.draw(3, torch.rand(1, 3, 8, 8))
    assert [line.get_label() for line in live.ax_loss.get_lines()] == ["content", "style", "tv"]
    assert live.ax_img.get_title() == "step 3" and len(live.handle.shown) == 1
    plt.close(live.fig)


def test_live_plot_outside_a_notebook_is_a_progress_bar(capsys):
    live = LivePlot(steps=5)  # pytest runs no Jupyter kernel
    for step in range(1, 6):
        live(step, torch.rand(1, 3, 8, 8), {"content": 0.5, "style": 1.5, "tv": 0.01, "total": 2.01})
    err = capsys.readouterr().err
    assert "5/5" in err and "style=1.5" in err
    assert live.handle is None and live.draws == 0


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class DummyHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, fig):
        self.shown.append(fig)
