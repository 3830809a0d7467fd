import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

from d2lstyle import LivePlot, show_images  # noqa: E402


def test_show_images_lays_out_titled_panels_without_axes():
    images = [torch.rand(1, 3, 10, 20), torch.rand(3, 10, 20), torch.rand(10, 20)]  # image, image, feature map
    fig = show_images(images, ["a", "b", "c"], ncols=2)
    axes = fig.get_axes()
    assert len(axes) == 4  # a 2x2 grid, the fourth panel empty
    assert [ax.get_title() for ax in axes] == ["a", "b", "c", ""]
    assert not any(ax.axison for ax in axes)
    assert [len(ax.get_images()) for ax in axes] == [1, 1, 1, 0]


def test_live_plot_draws_every_few_steps_and_the_last(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda fig, display_id: shown.append(fig) or DummyHandle(shown))
    live = LivePlot(steps=7, every=3)
    for step in range(1, 8):
        live(step, torch.rand(1, 3, 8, 8), {"content": 1.0 / step, "style": 2.0, "tv": 0.1, "total": 3.0})
    assert len(shown) == 3  # steps 3, 6 and 7: one display, then two updates of it
    assert len(live.history) == 7
    assert [line.get_label() for line in live.ax_loss.get_lines()] == ["content", "style", "tv"]


class DummyHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, fig):
        self.shown.append(fig)
