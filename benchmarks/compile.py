"""Does `torch.compile` make a pass cheaper? A check (CI does not run it).

At 300x450 (default images and `StyleObjective`) with the network `vgg19()`, as `transfer()` builds it, it times
the forward+backward pass eagerly and through `torch.compile` of the objective's `parts`, and the compilation itself
(the first compiled call), which every run of `transfer()` would pay once. Inductor's on-disk cache is switched
off, so the compilation is timed as a student's first run pays it.

    python benchmarks/compile.py           # about 2 minutes on 2 CPU cores; writes results/compile.json
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

os.environ.setdefault("TORCHINDUCTOR_FORCE_DISABLE_CACHES", "1")  # before torch is imported

import torch  # noqa: E402
from speed import machine  # noqa: E402  (benchmarks/speed.py, beside this script)

from d2lstyle import StyleObjective, load_image, vgg19  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def pass_seconds(loss_fn, img: torch.Tensor) -> float:
    x = img.clone().requires_grad_(True)
    start = time.perf_counter()
    sum(loss_fn(x).values()).backward()
    return time.perf_counter() - start


def main() -> None:
    net = vgg19()  # as transfer() builds it: bfloat16 where the processor has it, channel-last on a CPU
    content = load_image(ROOT / "data" / "chelsea.png", size=(300, 450)).to(net.device)
    style = load_image(ROOT / "data" / "starry_night.jpg", size=(300, 450)).to(net.device)
    objective = StyleObjective(content, style, net=net)
    eager = [pass_seconds(objective.parts, content) for _ in range(6)][1:]  # the first warms up
    compiled = torch.compile(objective.parts)
    first = pass_seconds(compiled, content)
    later = [pass_seconds(compiled, content) for _ in range(5)]
    precision = "bfloat16" if net.dtype == torch.bfloat16 else "float32"
    result = {"size": "300x450", "precision": precision, "device": net.device.type, "torch": torch.__version__,
              "eager_pass_s": sorted(eager)[2], "compiled_pass_s": sorted(later)[2],
              "first_compiled_call_s": first, "machine": machine()}
    print(json.dumps(result, indent=1))
    (ROOT / "benchmarks" / "results" / "compile.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
