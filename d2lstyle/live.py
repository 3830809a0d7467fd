"""The live view of a run (hand-written tooling, used by notebook 5; `tools/measure_live_plot.py` measures it)."""

from time import perf_counter

import matplotlib.pyplot as plt
import torch
from tqdm.auto import tqdm

from d2lstyle.images import to_uint8


def in_notebook() -> bool:
    """True inside a Jupyter kernel, where a figure can be redrawn in place; False in a script or a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return "IPKernelApp" in getattr(get_ipython(), "config", {})


class LivePlot:
    """A `synthesize`/`transfer` callback that shows the run as it goes: in a notebook, one figure redrawn in place
    with the current image and the losses (content, style, TV) against the step; elsewhere, a progress bar with the
    latest losses. steps: the number of steps (the last is always drawn). budget: the largest share of the run's time
    spent drawing: each redraw waits until drawing would cost at most that share (0.03: a run 3% slower at most)."""

    def __init__(self, steps: int, budget: float = 0.03, notebook: bool | None = None):
        self.steps, self.budget, self.history = steps, budget, []
        self.draws, self.drawing, self.next_draw = 0, 0.0, 0.0  # redraws so far, their seconds, when the next may
        self.handle, self.bar = None, None if (in_notebook() if notebook is None else notebook) else \
            tqdm(total=steps, unit="step")
        if self.bar is None:
            self.fig, (self.ax_img, self.ax_loss) = plt.subplots(1, 2, figsize=(10, 3.4), width_ratios=(1.2, 1))
            plt.close(self.fig)  # shown through display() below, not a second time at the end of the cell

    def __call__(self, step: int, img: torch.Tensor, losses: dict) -> None:
        self.history.append(losses)
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items() if k != "total"}, refresh=False)
            self.bar.update(1)
            if step == self.steps:
                self.bar.close()
        elif step == self.steps or perf_counter() >= self.next_draw:
            start = perf_counter()
            self.draw(step, img)
            took = perf_counter() - start
            self.draws, self.drawing, self.next_draw = self.draws + 1, self.drawing + took, start + took / self.budget

    def draw(self, step: int, img: torch.Tensor) -> None:
        from IPython.display import display

        self.ax_img.clear()
        self.ax_img.imshow(to_uint8(img))
        self.ax_img.set_title(f"step {step}")
        self.ax_img.axis("off")
        self.ax_loss.clear()
        for name in [k for k in self.history[-1] if k != "total"]:
            self.ax_loss.semilogy(range(1, len(self.history) + 1), [h[name] for h in self.history], label=name)
        self.ax_loss.set(xlabel="step", ylabel="weighted loss", ylim=(1e-3, None))  # content starts at 0
        self.ax_loss.legend(loc="upper left", bbox_to_anchor=(1, 1))  # beside the axes: the curves fill them
        self.fig.tight_layout()
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)
