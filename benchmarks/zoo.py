"""Every torchvision classification architecture through edgeprune: build, one training step, checkpoint
round trip, magnitude pruning to half the channels, ONNX export with parity, onnxruntime.

Each architecture runs in its own process (memory, timeouts); one JSON line per architecture goes to
OUT/zoo.jsonl as it finishes (a rerun skips finished ones), and a table of outcomes is printed:
``ok`` (every step passed), ``refused`` (edgeprune says up front why not, one line), or the step that
failed with its first error line. ``edgeprune list models`` shows the same support status.

    nice -n 19 .venv/bin/python benchmarks/zoo.py --out runs/zoo
    .venv/bin/python benchmarks/zoo.py --out runs/zoo --only resnet18,vit_b_16
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ONE = "import sys; sys.path.insert(0, sys.argv[1]); import zoo; zoo.report_chain(*sys.argv[2:])"


def run_chain(arch: str, work: Path, threads: int = 1) -> dict:
    """The whole chain for one torchvision architecture; the row says how far it got and why it stopped."""
    import numpy as np
    import onnxruntime as ort
    import torch

    import edgeprune as ep
    from edgeprune.errors import first_line
    from edgeprune.models.support import input_size_for, support_status

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    row: dict = {"arch": arch}
    t0 = time.perf_counter()
    step = "build"
    try:
        status = support_status("tv:" + arch)
        if status.refused:
            row.update(outcome="refused", reason=status.reason, seconds=0.0)
            return row
        size = input_size_for("tv:" + arch)
        row["input_size"] = size
        model = ep.create_model("tv:" + arch, num_classes=10, in_channels=3, input_size=size)
        row["params"] = sum(p.numel() for p in model.parameters())
        step = "train"
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-4)  # one small step: BatchNorm on a tiny random batch explodes
        x, y = torch.randn(8, 3, size, size), torch.arange(8) % 10
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        model.eval()
        step = "checkpoint"
        ep.save(model, work / "model.safetensors")
        again = ep.load(work / "model.safetensors")
        with torch.no_grad():
            a, b = model(x[:2]), again(x[:2])
        assert torch.isfinite(a).all(), "the trained model computes NaN/inf"
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5 * float(a.abs().max())), "the reloaded checkpoint differs"
        step = "prune"
        small = ep.prune(again, "magnitude", None, ratio=0.5).model
        row["params_pruned"] = sum(p.numel() for p in small.parameters())
        step = "export"
        ep.export_model(small, work / "export", formats=("onnx",))  # raises on a parity failure
        step = "onnxruntime"
        sess = ort.InferenceSession(str(work / "export" / "model.sim.onnx"), providers=["CPUExecutionProvider"])
        got = sess.run(None, {sess.get_inputs()[0].name: x[:2].numpy()})[0]
        with torch.no_grad():
            want = small(x[:2]).numpy()
        assert got.shape == want.shape and np.allclose(got, want, rtol=1e-3, atol=1e-4 * float(np.abs(want).max())), \
            f"onnxruntime differs from PyTorch: max abs diff {float(np.abs(got - want).max()):.3g}"
        row["outcome"] = "ok"
    except Exception as e:  # only the support table refuses (above); anything raised later is a failure
        row.update(outcome="failed", step=step, reason=f"{type(e).__name__}: {first_line(e)}")
    row["seconds"] = round(time.perf_counter() - t0, 1)
    return row


def report_chain(arch: str, work: str, threads: str) -> None:
    """``run_chain`` in a child process: the row on stdout for the parent."""
    print("ZOO " + json.dumps(run_chain(arch, Path(work), int(threads))), flush=True)


def run_one(arch: str, out: Path, threads: int, timeout: float) -> dict:
    """One architecture in a fresh interpreter; a crash or timeout is a failed row, not a failed sweep."""
    work = out / "work" / arch
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", ONE, str(Path(__file__).resolve().parent), arch, str(work),
                               str(threads)], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"arch": arch, "outcome": "failed", "step": "timeout", "reason": f"over {timeout:.0f} s",
                "seconds": round(time.perf_counter() - t0, 1)}
    for line in proc.stdout.splitlines():
        if line.startswith("ZOO "):
            return json.loads(line[4:])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"arch": arch, "outcome": "failed", "step": "crash", "reason": f"exit {proc.returncode}: {tail[:300]}",
            "seconds": round(time.perf_counter() - t0, 1)}


def _count(n: int | None) -> str:
    return f"{n:,}" if isinstance(n, int) else ""


def table(rows: list[dict]) -> str:
    """Markdown: one row per architecture, then the counts."""
    lines = ["| architecture | outcome | input px | params | params after 50% | seconds | why |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in sorted(rows, key=lambda r: (r["outcome"], r["arch"])):
        why = r.get("reason", "") if r["outcome"] != "ok" else ""
        if r["outcome"] == "failed":
            why = f"{r.get('step')}: {why}"
        lines.append(f"| {r['arch']} | {r['outcome']} | {r.get('input_size', '')} | {_count(r.get('params'))} | "
                     f"{_count(r.get('params_pruned'))} | {r['seconds']} | {why} |")
    counts = {k: sum(1 for r in rows if r["outcome"] == k) for k in ("ok", "refused", "failed")}
    lines += ["", f"{len(rows)} architectures: {counts['ok']} ok, {counts['refused']} refused, {counts['failed']} failed"]
    return "\n".join(lines)


def main() -> int:
    import torchvision

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/zoo", help="folder for zoo.jsonl, zoo.md and the per-model work")
    p.add_argument("--only", default=None, help="comma-separated architectures (default: all)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per model (default 1)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per architecture (default 900)")
    args = p.parse_args()
    names = torchvision.models.list_models(module=torchvision.models)
    if args.only:
        unknown = sorted(set(args.only.split(",")) - set(names))
        if unknown:
            p.error(f"not torchvision classification models: {', '.join(unknown)}")
        names = args.only.split(",")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "zoo.jsonl"
    done = {}
    if log.exists():
        for line in log.read_text().splitlines():
            r = json.loads(line)
            done[r["arch"]] = r
    for i, arch in enumerate(names, 1):
        if arch in done and not args.only:
            continue
        row = run_one(arch, out, args.threads, args.timeout)
        done[arch] = row
        with log.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"[{i}/{len(names)}] {arch}: {row['outcome']} {row.get('step', '')} {row.get('reason', '')} "
              f"({row['seconds']} s)", flush=True)
    text = table([done[a] for a in names if a in done])
    cmd = "benchmarks/zoo.py " + " ".join(sys.argv[1:])
    (out / "zoo.md").write_text(f"# The torchvision zoo through edgeprune\n\nCommand: `{cmd}`\n\n{text}\n")
    print(text)
    print(f"\ncommand: {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
