"""What the live view costs: the same transfer with and without `LivePlot`, timed in a Jupyter kernel.

    python tools/measure_live_plot.py [--size 192] [--steps 40] [--repeats 3]

Runs alternate (without, with, without, ...) so that a busy machine slows both alike; prints each run's seconds,
the median slowdown, and how many times and for how long the live view drew.
"""

import argparse
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
CODE = """
%matplotlib inline
%config InlineBackend.figure_formats = ["jpeg"]
import statistics, time
from d2lstyle import load_image, transfer, vgg19
from d2lstyle.live import LivePlot
net = vgg19()
content = load_image("data/chelsea.png", size={size})
style = load_image("data/starry_night.jpg", size={size})
transfer(content, style, steps=3, net=net)  # warm-up
runs = {{"without": [], "with": []}}
for _ in range({repeats}):
    for mode in runs:
        live = LivePlot({steps}) if mode == "with" else None
        start = time.perf_counter()
        transfer(content, style, steps={steps}, net=net, callback=live)
        runs[mode].append(time.perf_counter() - start)
        if live:
            print(f"live view: {{live.draws}} redraws, {{live.drawing:.2f}} s of {{runs[mode][-1]:.1f}} s")
for mode, seconds in runs.items():
    print(mode, "live view:", ", ".join(f"{{s:.1f}} s" for s in seconds))
slowdown = statistics.median(w / wo - 1 for w, wo in zip(runs["with"], runs["without"]))
print(f"median slowdown {{slowdown:+.1%}}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CODE.format(**vars(args)))])
    NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    for output in nb.cells[0].outputs:
        if output.output_type == "stream" and output.name == "stdout":
            print(output.text, end="")


if __name__ == "__main__":
    main()
