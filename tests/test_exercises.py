"""Every nbval-checked exercise: its check, read from the notebook, passes with the reference solution and fails with
plausible wrong answers (issue 23: a check that a wrong answer passes teaches nothing).

Each check runs in a small stand-in for the notebook's state (tiny tensors, a toy objective), so the test needs
seconds, not the notebook's minutes; the notebooks themselves run the same checks on the real results.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import torch

from d2lstyle import content_loss, gram, layer_names, tv_loss, vgg19
from d2lstyle.controls import blend

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def tagged_cells(notebook: str, tag: str) -> list[str]:
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    return ["".join(c["source"]) for c in cells if tag in c.get("metadata", {}).get("tags", [])]


def shapes_context() -> dict:
    return {"torch": torch, "net": vgg19(precision="float32", device="cpu"), "LAYERS": layer_names()}


def improvement_context() -> dict:  # a toy objective with the notebook's names: both "runs" lowered it over 3x
    target = torch.full((1, 3, 8, 8), 0.5)
    return {"torch": torch, "objective": lambda x: (x - target).pow(2).sum(), "content": target + 0.3,
            "from_content": target + 0.1, "from_noise": target + 0.01}


def traces_context() -> dict:  # run's (trace, image, passes) of the two optimisers, as notebook 6 records them
    return {"STEPS": 2, "runs": {"L-BFGS": ([(0.1, 3.0), (0.2, 1.0)], None, 2),
                                 "Adam (lecture recipe)": ([(0.1, 3.0), (0.3, 2.0)], None, 2)}}


def blend_context() -> dict:
    return {"torch": torch, "blend": blend}


# notebook -> (the names its check needs, {a wrong answer: its source})
EXERCISES = {
    "01_images_and_features.ipynb": (shapes_context, {
        "no pooling before a pool layer's own output": """
            def feature_shape(height, width, layer):
                channels = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
                block = int(layer[4] if layer.startswith("pool") else layer[-3])
                return (1, channels[block], height // 2 ** (block - 1), width // 2 ** (block - 1))""",
        "sizes rounded up": """
            def feature_shape(height, width, layer):
                channels = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
                block = int(layer[4] if layer.startswith("pool") else layer[-3])
                pools = block if layer.startswith("pool") else block - 1
                return (1, channels[block], -(-height // 2**pools), -(-width // 2**pools))"""}),
    "02_content_loss.ipynb": ({"torch": torch, "content_loss": content_loss}, {
        "L1 for L2": """
            def relative_content_loss(Y_hat, Y):
                return (Y_hat - Y).abs().mean() / Y.abs().mean()""",
        "a symmetric normaliser": """
            def relative_content_loss(Y_hat, Y):
                return content_loss(Y_hat, Y) / (Y_hat.pow(2).mean() + Y.pow(2).mean())""",
        "normalised by the synthesized map": """
            def relative_content_loss(Y_hat, Y):
                return content_loss(Y_hat, Y) / Y_hat.pow(2).mean().clamp_min(1e-12)"""}),
    "03_gram_matrix_style.ipynb": ({"torch": torch, "gram": gram}, {
        "normalised by the whole batch": """
            def gram_batch(X):
                b, c = X.shape[:2]
                X = X.reshape(b, c, -1)
                return X @ X.transpose(1, 2) / X.numel()""",
        "normalised by the pixels only": """
            def gram_batch(X):
                b, c = X.shape[:2]
                X = X.reshape(b, c, -1)
                return X @ X.transpose(1, 2) / X.shape[2]""",
        "the first image's Gram for all": """
            def gram_batch(X):
                return gram(X[:1]).expand(X.shape[0], -1, -1)"""}),
    "04_total_variation.ipynb": ({"torch": torch, "tv_loss": tv_loss}, {
        "a constant for the ramp": """
            def tv_checkerboard():
                return 1.0


            def tv_ramp(w):
                return 0.5 / 9""",
        "steps of 1/w": """
            def tv_checkerboard():
                return 1.0


            def tv_ramp(w):
                return 0.5 / w""",
        "no factor 1/2": """
            def tv_checkerboard():
                return 2.0


            def tv_ramp(w):
                return 1 / (w - 1)"""}),
    "05_style_transfer.ipynb": (improvement_context, {
        "a constant": """
            def improvement(objective, start, result):
                return 4""",
        "the ratio upside down": """
            def improvement(objective, start, result):
                return (objective(result) / objective(start)).item()""",
        "the difference": """
            def improvement(objective, start, result):
                return (objective(start) - objective(result)).item()"""}),
    "06_faster.ipynb": (traces_context, {
        "b's last time, not when it first got there": """
            def times_sooner(trace_a, trace_b):
                target = min(value for _, value in trace_b)
                reached = next((t for t, value in trace_a if value <= target), None)
                return 0 if reached is None else trace_b[-1][0] / reached""",
        "steps counted, not seconds": """
            def times_sooner(trace_a, trace_b):
                target = min(value for _, value in trace_b)
                steps = [next((k for k, (_, value) in enumerate(trace) if value <= target), None)
                         for trace in (trace_a, trace_b)]
                return 0 if steps[0] is None else (steps[1] + 1) / (steps[0] + 1)""",
        "strictly below the target": """
            def times_sooner(trace_a, trace_b):
                target = min(value for _, value in trace_b)
                reached = [next((t for t, value in trace if value < target), None) for trace in (trace_a, trace_b)]
                return 0 if None in reached else reached[1] / reached[0]""",
        "the ratio upside down": """
            def times_sooner(trace_a, trace_b):
                target = min(value for _, value in trace_b)
                reached = [next((t for t, value in trace if value <= target), None) for trace in (trace_a, trace_b)]
                return 0 if reached[0] is None else reached[0] / reached[1]""",
        "None when a never gets there": """
            def times_sooner(trace_a, trace_b):
                target = min(value for _, value in trace_b)
                reached = [next((t for t, value in trace if value <= target), None) for trace in (trace_a, trace_b)]
                return None if reached[0] is None else reached[1] / reached[0]"""}),
    "07_controls.ipynb": (blend_context, {
        "no gap": """
            def loss_gap(grams, weights):
                return 0.0""",
        "the weights ignored": """
            def loss_gap(grams, weights):
                mix = sum(grams) / len(grams)
                return sum(((G_k - mix) ** 2).sum() for G_k in grams) / len(grams)""",
        "the mix's own square forgotten": """
            def loss_gap(grams, weights):
                return sum(w * (G_k ** 2).sum() for w, G_k in zip(weights, grams))""",
        "the spread not weighted": """
            def loss_gap(grams, weights):
                mix = sum(w * G_k for w, G_k in zip(weights, grams))
                return sum(((G_k - mix) ** 2).sum() for G_k in grams)"""}),
    "08_fast_style_transfer.ipynb": ({}, {
        "counted from 1": """
            def steps_to_reach(trace, target):
                for steps, value in enumerate(trace):
                    if value <= target:
                        return steps + 1
                return None""",
        "strictly below the target": """
            def steps_to_reach(trace, target):
                for steps, value in enumerate(trace):
                    if value < target:
                        return steps
                return None""",
        "the last time it is reached": """
            def steps_to_reach(trace, target):
                reached = [steps for steps, value in enumerate(trace) if value <= target]
                return reached[-1] if reached else None"""}),
}


def run_check(notebook: str, solution: str) -> None:
    """Run `solution`, then the notebook's check of that exercise, in the notebook's stand-in names."""
    context, _ = EXERCISES[notebook]
    names = dict(context() if callable(context) else context)
    (check,) = tagged_cells(notebook, "check")
    exec(solution, names)
    exec(check, names)


def test_every_notebook_with_an_exercise_check_is_covered():
    assert sorted(n.name for n in NOTEBOOKS.glob("*.ipynb") if tagged_cells(n.name, "check")) == sorted(EXERCISES)


@pytest.mark.parametrize("notebook", EXERCISES)
def test_the_reference_solution_passes_its_check(notebook):
    (solution,) = tagged_cells(notebook, "solution")
    run_check(notebook, solution)


@pytest.mark.parametrize("notebook, wrong", [(n, w) for n, (_, answers) in EXERCISES.items() for w in answers])
def test_a_wrong_answer_fails_its_check(notebook, wrong):
    with pytest.raises(AssertionError):
        run_check(notebook, textwrap.dedent(EXERCISES[notebook][1][wrong]))
