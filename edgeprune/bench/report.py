"""Writers: bench.json (stable keys, raw samples), bench.md (a table read at a glance), bench.png (p50 bars)."""

from __future__ import annotations

from pathlib import Path

from edgeprune.accuracy import interval_text
from edgeprune.bench.rows import BenchReport, BenchRow

__all__ = ["markdown", "plot_p50", "write_reports"]


def write_reports(report: BenchReport, out: Path) -> dict[str, Path]:
    """Write the three outputs atomically and return their paths."""
    from edgeprune.fileio import write_json, write_text

    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "bench.json", "md": out / "bench.md", "png": out / "bench.png"}
    write_json(paths["json"], report.to_dict())
    write_text(paths["md"], markdown(report))
    plot_p50(report.rows, paths["png"])
    return paths


def _mb(n: int | None) -> str:
    return "–" if n is None else f"{n / 1e6:.1f} MB"


def _num(x: float | int | None, fmt: str) -> str:
    return "–" if x is None else format(x, fmt)


def _load(values: list[float] | None) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "?"


def _count(n: int | None) -> str:
    if n is None:
        return "–"
    return f"{n / 1e9:.2f} G" if n >= 1e9 else f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.1f} k"


def speedup_text(r: BenchRow) -> str:
    """``3.10x [2.95, 3.24]`` or ``–``."""
    if r.speedup_vs_baseline is None:
        return "–"
    if r.role == "baseline":
        return "1 (baseline)"
    return f"{r.speedup_vs_baseline:.2f}x [{r.speedup_ci_low:.2f}, {r.speedup_ci_high:.2f}]"


def _runtime(r: BenchRow) -> str:
    """``onnxruntime 1.20.1``: the backend's display name and the version it reported."""
    from edgeprune.bench.backends import display_name

    name, version = display_name(r.backend), r.backend_version or ""
    return version if version.startswith(name) else f"{name} {version}".strip()


def _device_lines(rows: list[BenchRow]) -> list[str]:
    """One line per remote device (ssh rows carry the board's own environment header)."""
    seen: dict[str, dict] = {}
    for r in rows:
        env = (r.runtime or {}).get("env")
        device = (r.runtime or {}).get("device")
        if r.backend == "ssh" and env and device not in seen:
            seen[device] = env
    return [f"- device {d}: {e.get('cpu_model')} ({e.get('machine')}), {e.get('cores')} cores, governor "
            f"{e.get('governor') or 'unreadable'}, onnxruntime {e.get('onnxruntime')}, Python {e.get('python')}"
            for d, e in seen.items()]


def markdown(report: BenchReport) -> str:
    """The whole bench.md: environment, table, claim verdicts."""
    e, s = report.env, report.settings
    v = e.get("versions", {})
    lines = ["# Benchmark", "",
             f"- CPU: {e.get('cpu_model')} ({e.get('machine')}), {e.get('cores')} cores, affinity {e.get('affinity')}, "
             f"cgroup quota {e.get('cgroup_cpu_quota') or 'none'}; flags: {', '.join(e.get('cpu_flags') or []) or '–'}",
             "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
             f"- git: {e.get('git_sha') or 'unknown'}; load average (1/5/15 min) at start {_load(e.get('loadavg'))}, at end {_load(e.get('loadavg_end'))}"
             + (" — a loaded machine: compare ratios, not milliseconds" if (e.get("loadavg") or [0])[0] > (e.get("cores") or 1) else ""),
             f"- preset {s['preset']['name']} (≥{s['preset']['min_runs']} runs, ≥{s['preset']['min_rounds']} rounds, "
             f"≥{s['preset']['min_time_s']} s per model), batch {s['batch']}; models interleaved in rounds per cell; "
             "speedup = ratio of medians, 95% bootstrap interval over rounds; MACs ratio is the ideal.",
             *_device_lines(report.rows), "",
             "| model | format | backend | profile | threads | status | size | peak RSS | params | MACs | accuracy [95% CI] "
             "| p50 ms | p90 ms | CV | speedup [95% CI] | MACs ratio | efficiency | file sha256 |",
             "|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"]
    for r in report.rows:
        status = "✅" if r.ok else f"❌ {r.reason}"
        lines.append(
            f"| {r.variant} | {r.format or '?'} {r.precision} | {_runtime(r)} | {r.profile} "
            f"| {r.threads} | {status} | {_mb(r.size_bytes)} | {_mb(r.peak_rss_bytes)} | {_count(r.params)} "
            f"| {_count(r.macs)} | {interval_text(r.accuracy, r.accuracy_n)} | {_num(r.p50_ms, '.3f')} | {_num(r.p90_ms, '.3f')} "
            f"| {_num(r.cv, '.2f')} | {speedup_text(r)} | {_num(r.macs_ratio, '.2f')} | {_num(r.efficiency, '.2f')} "
            f"| {(r.sha256 or '–')[:12]} |")
    if s.get("claim") is not None:
        verdict = "PASSED" if report.claim_passed else "FAILED"
        lines += ["", f"## Claim: at least {s['claim']:g}x faster (interval lower bound) — {verdict}", ""]
        lines += [f"- {c.line}" for c in report.claims] or ["- no row was in scope"]
    return "\n".join(lines) + "\n"


def plot_p50(rows: list[BenchRow], path: Path) -> Path:
    """Grouped bars: p50 per (backend, profile, threads), one bar per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edgeprune.fileio import atomic_path

    ok = [r for r in rows if r.ok]
    groups = list(dict.fromkeys(f"{r.backend}\n{r.profile} {r.threads}t" for r in rows))
    models = list(dict.fromkeys(r.variant for r in rows))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(groups) * max(1, len(models)) / 2 + 2), 4))
    width = 0.8 / max(1, len(models))
    for j, m in enumerate(models):
        xs, ys = [], []
        for i, g in enumerate(groups):
            r = next((r for r in ok if r.variant == m and f"{r.backend}\n{r.profile} {r.threads}t" == g), None)
            if r is not None:
                xs.append(i + (j - (len(models) - 1) / 2) * width)
                ys.append(r.p50_ms)
        ax.bar(xs, ys, width, label=m)
    ax.set_xticks(range(len(groups)), groups, fontsize=8)
    ax.set_ylabel("p50 latency (ms, lower is better)")
    ax.set_title("Median latency per backend, profile and threads")
    if models:
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path
