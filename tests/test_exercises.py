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

from d2lstyle import content_loss, gram, layer_names, style_loss, tv_loss, vgg19
from d2lstyle.controls import blend, mean_cov

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def tagged_cells(notebook: str, tag: str) -> list[str]:
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    return ["".join(c["source"]) for c in cells if tag in c.get("metadata", {}).get("tags", [])]


def shapes_context() -> dict:
    return {"torch": torch, "net": vgg19(precision="float32", device="cpu"), "LAYERS": layer_names()}


def moved_cat_context() -> dict:  # notebook 2's names: the cat at 128 pixels, its four layers
    from d2lstyle import load_image
    from d2lstyle.files import data_file

    return {"torch": torch, "net": vgg19(precision="float32", device="cpu"), "content_loss": content_loss,
            "content": load_image(data_file("chelsea.png"), size=128),
            "layers": ["relu1_2", "relu3_2", "relu4_2", "relu5_2"]}


def buggy_objective_context() -> dict:  # notebook 5's names at 32 x 48 pixels, its buggy objective from its own cell
    from d2lstyle.losses import content_loss, gram, style_loss, tv_loss
    from d2lstyle.synthesis import STYLE_LAYERS

    g = torch.Generator().manual_seed(0)
    names = {"torch": torch, "net": vgg19(precision="float32", device="cpu"), "STYLE_LAYERS": STYLE_LAYERS,
             "content_loss": content_loss, "gram": gram, "style_loss": style_loss, "tv_loss": tv_loss,
             "content": torch.rand(1, 3, 32, 48, generator=g), "stretched_style": torch.rand(1, 3, 32, 48, generator=g)}
    cells = json.loads((NOTEBOOKS / "05_style_transfer.ipynb").read_text())["cells"]
    exec("".join(next(c["source"] for c in cells if c.get("id") == "i5-bug")), names)
    return names


def traces_context() -> dict:  # run's (trace, image, passes) of the two optimisers, as notebook 6 records them
    # Adam's toy run goes up again after its lowest value, as real runs do: its last value is not its lowest
    return {"STEPS": 3, "runs": {"L-BFGS": ([(0.1, 3.0), (0.2, 1.0)], None, 2),
                                 "Adam (lecture recipe)": ([(0.1, 3.0), (0.3, 2.0), (0.4, 2.2)], None, 3)}}


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
                return (1, channels[block], -(-height // 2**pools), -(-width // 2**pools))""",
        "runs the network it was given": """
            def feature_shape(height, width, layer):
                return tuple(net(torch.zeros(1, 3, height, width), [layer])[layer].shape)""",
        "imports the package's vgg19 and runs it": """
            def feature_shape(height, width, layer):
                from d2lstyle import vgg19

                features = vgg19(weights=None, device="cpu")(torch.zeros(1, 3, height, width), [layer])
                return tuple(features[layer].shape)""",
        "a table of one image size, made with the network beforehand": """
            SHAPES = {name: tuple(f.shape) for name, f in net(torch.zeros(1, 3, 75, 101), LAYERS).items()}


            def feature_shape(height, width, layer):
                return SHAPES[layer]"""}),
    "02_content_loss.ipynb": (moved_cat_context, {
        "the order of the experiment, shallow first": """
            def forgiving_order():
                return ["relu1_2", "relu3_2", "relu4_2", "relu5_2"]""",
        "the two middle layers swapped": """
            def forgiving_order():
                return ["relu5_2", "relu3_2", "relu4_2", "relu1_2"]""",
        "one layer left out": """
            def forgiving_order():
                return ["relu5_2", "relu4_2", "relu3_2"]""",
        "runs the network it was given": """
            def forgiving_order():
                moved, photo = content[..., 2:], content[..., :-2]
                change = {n: content_loss(net(moved, [n])[n], net(photo, [n])[n]).item() for n in layers}
                return sorted(layers, key=change.get)""",
        "imports the package's vgg19 and runs it": """
            def forgiving_order():
                from d2lstyle import vgg19

                f = vgg19(precision="float32")
                change = {n: content_loss(f(content[..., 2:], [n])[n], f(content[..., :-2], [n])[n]) for n in layers}
                return sorted(layers, key=lambda n: change[n].item())"""}),
    "03_gram_matrix_style.ipynb": ({"torch": torch, "gram": gram, "style_loss": style_loss}, {
        "dL/dG of a sum, not of a mean": """
            def style_loss_grad(Y_hat, gram_Y):
                c, n = Y_hat.shape[1], Y_hat[0, 0].numel()
                G_bar = 2 * (gram(Y_hat) - gram_Y)
                return ((G_bar + G_bar.T) @ Y_hat.reshape(c, n) / (c * n)).reshape(Y_hat.shape)""",
        "one of the two terms": """
            def style_loss_grad(Y_hat, gram_Y):
                c, n = Y_hat.shape[1], Y_hat[0, 0].numel()
                G_bar = 2 * (gram(Y_hat) - gram_Y) / c**2
                return (G_bar @ Y_hat.reshape(c, n) / (c * n)).reshape(Y_hat.shape)""",
        "divided by n, not c n": """
            def style_loss_grad(Y_hat, gram_Y):
                c, n = Y_hat.shape[1], Y_hat[0, 0].numel()
                G_bar = 2 * (gram(Y_hat) - gram_Y) / c**2
                return ((G_bar + G_bar.T) @ Y_hat.reshape(c, n) / n).reshape(Y_hat.shape)""",
        "the sign reversed": """
            def style_loss_grad(Y_hat, gram_Y):
                c, n = Y_hat.shape[1], Y_hat[0, 0].numel()
                G_bar = 2 * (gram_Y - gram(Y_hat)) / c**2
                return ((G_bar + G_bar.T) @ Y_hat.reshape(c, n) / (c * n)).reshape(Y_hat.shape)""",
        "imports the package's style_loss and asks autograd": """
            def style_loss_grad(Y_hat, gram_Y):
                from d2lstyle import style_loss
                with torch.enable_grad():
                    Y = Y_hat.detach().requires_grad_(True)
                    style_loss(Y, gram_Y).backward()
                return Y.grad""",
        "imports the package's GramProduct and asks autograd": """
            def style_loss_grad(Y_hat, gram_Y):
                from d2lstyle.losses import GramProduct
                X = Y_hat.detach().reshape(Y_hat.shape[1], -1).requires_grad_(True)
                ((GramProduct.apply(X) / X.numel() - gram_Y) ** 2).mean().backward()
                return X.grad.reshape(Y_hat.shape)"""}),
    "04_total_variation.ipynb": ({"torch": torch, "tv_loss": tv_loss}, {
        "steps of 1/w": """
            def tv_checkerboard():
                return 1.0


            def tv_ramp(w):
                return 0.5 / w


            def tv_edge(w):
                return 0.5 / (w - 1)""",
        "no factor 1/2": """
            def tv_checkerboard():
                return 2.0


            def tv_ramp(w):
                return 1 / (w - 1)


            def tv_edge(w):
                return 1 / (w - 1)""",
        "the sharp edge dearer than the ramp": """
            def tv_checkerboard():
                return 1.0


            def tv_ramp(w):
                return 0.5 / (w - 1)


            def tv_edge(w):
                return 0.5""",
        "builds the images and calls tv_loss": """
            def tv_checkerboard():
                i, j = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
                return tv_loss(((i + j) % 2).float().expand(1, 3, 8, 8)).item()


            def tv_ramp(w):
                return tv_loss(torch.linspace(0, 1, w).expand(1, 3, 8, w)).item()


            def tv_edge(w):
                return tv_loss((torch.arange(w) >= w // 2).float().expand(1, 3, 8, w)).item()""",
        "imports the package's tv_loss": """
            def tv_checkerboard():
                return 1.0


            def tv_ramp(w):
                from d2lstyle.losses import tv_loss
                return tv_loss(torch.linspace(0, 1, w).expand(1, 3, 8, w)).item()


            def tv_edge(w):
                import d2lstyle
                return d2lstyle.tv_loss((torch.arange(w) >= w // 2).float().expand(1, 3, 8, w)).item()"""}),
    "05_style_transfer.ipynb": (buggy_objective_context, {
        "the bug left in": """
            def fixed_parts_of(content_img, style_img):
                return buggy_parts_of(content_img, style_img)""",
        "the content target taken from the style image instead": """
            def fixed_parts_of(content_img, style_img):
                return buggy_parts_of(style_img, content_img)""",
        "the style term dropped": """
            def fixed_parts_of(content_img, style_img):
                buggy = buggy_parts_of(content_img, style_img)
                return lambda img: {**buggy(img), "style": torch.zeros(())}""",
        "both targets taken from the style image": """
            def fixed_parts_of(content_img, style_img):
                return buggy_parts_of(style_img, style_img)""",
        "imports the package's StyleObjective": """
            def fixed_parts_of(content_img, style_img):
                from d2lstyle.synthesis import StyleObjective
                return StyleObjective(content_img, style_img, net=net, style_weight=1).parts"""}),
    "06_faster.ipynb": (traces_context, {
        "b's last objective as the target, not its lowest": """
            def times_sooner(trace_a, trace_b):
                target = trace_b[-1][1]
                reached = [next((t for t, value in trace if value <= target), None) for trace in (trace_a, trace_b)]
                return 0 if reached[0] is None else reached[1] / reached[0]""",
        "the last time b is at its lowest, not the first": """
            def times_sooner(trace_a, trace_b):
                target = min(value for _, value in trace_b)
                last_b = [t for t, value in trace_b if value == target][-1]
                reached = next((t for t, value in trace_a if value <= target), None)
                return 0 if reached is None else last_b / reached""",
        "imports the package's converged: b gets there when it stops gaining": """
            def times_sooner(trace_a, trace_b):
                from d2lstyle.synthesis import converged
                best = []
                for when, value in trace_b:
                    best.append(min(best[-1], value) if best else value)
                    if converged(best, 0.01, 1):
                        break
                reached = next((t for t, value in trace_a if value <= best[-1]), None)
                return 0 if reached is None else when / reached""",
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
                return sum(((G_k - mix) ** 2).sum() for G_k in grams)""",
        "the weights squared": """
            def loss_gap(grams, weights):
                mix = sum(w * G_k for w, G_k in zip(weights, grams))
                return sum(w**2 * ((G_k - mix) ** 2).sum() for w, G_k in zip(weights, grams))""",
        "the sign turned: mixed targets minus mixed losses": """
            def loss_gap(grams, weights):
                mix = sum(w * G_k for w, G_k in zip(weights, grams))
                return ((mix ** 2).sum() - sum(w * (G_k ** 2).sum() for w, G_k in zip(weights, grams)))""",
        "imports the package's blend and content_loss: means, not sums": """
            def loss_gap(grams, weights):
                from d2lstyle.controls import blend, mean_cov
                from d2lstyle.losses import content_loss
                mix = blend([{"layer": (G_k,)} for G_k in grams], weights)["layer"][0]
                return sum(w * content_loss(G_k, mix) for w, G_k in zip(weights, grams))"""}),
    "08_fast_style_transfer.ipynb": ({}, {
        "rounded up: equal time counted as less": """
            import math


            def fewest_pictures(T_train, t_net, t_opt):
                return None if t_net >= t_opt else math.ceil(T_train / (t_opt - t_net))""",
        "rounded to the nearest": """
            def fewest_pictures(T_train, t_net, t_opt):
                return None if t_net >= t_opt else round(T_train / (t_opt - t_net))""",
        "the network's own time per picture forgotten": """
            import math


            def fewest_pictures(T_train, t_net, t_opt):
                return None if t_net >= t_opt else math.floor(T_train / t_opt) + 1""",
        "no case for a network that is not faster": """
            import math


            def fewest_pictures(T_train, t_net, t_opt):
                return math.floor(T_train / (t_opt - t_net)) + 1 if t_opt != t_net else None""",
        "imports the package's training record for T_train": """
            import math


            def fewest_pictures(T_train, t_net, t_opt):
                from d2lstyle.fast import load_model
                T_train = load_model("starry_night").record["seconds"]
                return None if t_net >= t_opt else math.floor(T_train / (t_opt - t_net)) + 1"""}),
    "09_any_style.ipynb": ({"torch": torch, "mean_cov": mean_cov}, {
        "each channel divided by its standard deviation (AdaIN's diagonal)": """
            def whiten(X):
                mu, cov = mean_cov(X)
                centred = X.reshape(X.shape[1], -1) - mu[:, None]
                return (centred / cov.diagonal().sqrt()[:, None]).reshape(X.shape)""",
        "the mean not taken away": """
            def whiten(X):
                mu, cov = mean_cov(X)
                d, E = torch.linalg.eigh(cov)
                return (E @ torch.diag(d ** -0.5) @ E.T @ X.reshape(X.shape[1], -1)).reshape(X.shape)""",
        "Sigma^-1, not Sigma^-1/2": """
            def whiten(X):
                mu, cov = mean_cov(X)
                centred = X.reshape(X.shape[1], -1) - mu[:, None]
                return (torch.linalg.inv(cov) @ centred).reshape(X.shape)""",
        "E^T D^-1/2 E: the eigenvectors on the wrong sides": """
            def whiten(X):
                mu, cov = mean_cov(X)
                d, E = torch.linalg.eigh(cov)
                centred = X.reshape(X.shape[1], -1) - mu[:, None]
                return (E.T @ torch.diag(d ** -0.5) @ E @ centred).reshape(X.shape)""",
        "a whitening by Cholesky: covariance I, but not the symmetric matrix": """
            def whiten(X):
                mu, cov = mean_cov(X)
                centred = X.reshape(X.shape[1], -1) - mu[:, None]
                L = torch.linalg.cholesky(cov)
                return torch.linalg.solve_triangular(L, centred, upper=False).reshape(X.shape)""",
        "the eigenvectors alone (PCA): uncorrelated, but not variance 1": """
            def whiten(X):
                mu, cov = mean_cov(X)
                _, E = torch.linalg.eigh(cov)
                return (E.T @ (X.reshape(X.shape[1], -1) - mu[:, None])).reshape(X.shape)"""}),
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
