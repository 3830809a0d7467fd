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

from d2lstyle import content_loss, gram, layer_names, pass_flops, rgb_to_yiq, tv_loss, vgg19, yiq_to_rgb

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


def pyramid_context() -> dict:
    content, small = torch.rand(1, 3, 64, 96), torch.rand(1, 3, 32, 48)
    return {"pass_flops": pass_flops, "net": vgg19(precision="float32", device="cpu"), "content": content,
            "small": small, "layers": ["relu1_1", "relu3_1", "relu4_2"], "half": (32, 48), "SIZE": (64, 96)}


def chroma_context() -> dict:  # luminance_only: the content with its Y scaled, I and Q kept; plain: another picture
    content = 0.3 + 0.4 * torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    yiq = rgb_to_yiq(content)
    luminance_only = yiq_to_rgb(torch.cat([0.8 * yiq[:, :1], yiq[:, 1:]], dim=1))
    plain = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    return {"rgb_to_yiq": rgb_to_yiq, "content": content, "luminance_only": luminance_only, "plain": plain}


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
    "06_faster.ipynb": (pyramid_context, {
        "cost linear in the scale": """
            def pyramid_cost(n_coarse, n_full, scale):
                return n_coarse * scale + n_full""",
        "the full-size steps forgotten": """
            def pyramid_cost(n_coarse, n_full, scale):
                return n_coarse * scale**2""",
        "every step scaled": """
            def pyramid_cost(n_coarse, n_full, scale):
                return (n_coarse + n_full) * scale**2"""}),
    "07_controls.ipynb": (chroma_context, {
        "always True": """
            def chroma_kept(result, content, tol):
                return True""",
        "the luminance compared": """
            def chroma_kept(result, content, tol):
                return (rgb_to_yiq(result)[:, :1] - rgb_to_yiq(content)[:, :1]).abs().mean().item() < tol""",
        "RGB compared": """
            def chroma_kept(result, content, tol):
                return (result - content).abs().mean().item() < tol"""}),
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
