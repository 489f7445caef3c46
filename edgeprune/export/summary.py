"""export.md: files and sizes, parity figures and accuracy, for people."""

from __future__ import annotations

from typing import Any


def export_markdown(r: dict[str, Any]) -> str:
    """The Markdown summary of an export.json dict."""
    lines = [f"# Export: {r['model']} {tuple(r['input_shape'])}, opset {r['opset']}", ""]
    if r["status"] != "ok":
        lines += [f"**PARITY FAILED** for {', '.join(r['parity_failed'])}: those files carry 'parity-failed' "
                  "in their names and must not be deployed.", ""]
    if r["source"]:
        lines += [f"- source: `{r['source']['path']}` (sha256 {r['source']['sha256'][:12]}…)"]
    simp = r["simplify"]
    lines += [f"- simplified with {simp['tool'] or 'nothing'}: {simp['nodes_before']} -> {simp['nodes_after']} nodes"
              + (f" ({simp['warning']})" if simp["warning"] else "")]
    if r.get("openvino_weights"):
        lines += [f"- OpenVINO IR weights: {r['openvino_weights']}"]
    lines += ["", "| file | format | precision | bytes | vs model.sim.onnx |", "|---|---|---|---:|---:|"]
    base = next((f["bytes"] for f in r["files"] if f["path"] == "model.sim.onnx"), None)
    for f in r["files"]:
        ratio = f"{f['bytes'] / base:.2f}x" if base else ""
        lines.append(f"| `{f['path']}` | {f['format']} | {f['precision']} | {f['bytes']:,} | {ratio} |")
    from edgeprune.export.parity import INT8_MIN_AGREEMENT

    lines += ["", "Parity against PyTorch (relative diff = max |diff| / max |logit|; INT8 must agree on top-1 for "
              f"at least {INT8_MIN_AGREEMENT:.0%} of the test images, on random inputs it is reported only):",
              "", "| file | backend | precision | batch | n | max abs diff | rel diff | top-1 agree | ok |",
              "|---|---|---|---|---:|---:|---:|---:|---|"]
    for p in r["parity"]:
        ok = "yes" if p["passed"] else "**NO**"
        if p["tolerance"] is None and p.get("min_agreement") is None:
            ok = "(reported)"
        lines.append(f"| `{p['artifact']}` | {p['backend']} | {p['precision']} | {p['batch']} | {p['n']} | "
                     f"{p['max_abs_diff']:.2e} | {p['rel_diff']:.2e} | {p['top1_agreement']:.1%} | {ok} |")
    acc = r.get("accuracy")
    if acc:
        from edgeprune.accuracy import paired_predictions, wilson

        lines += ["", f"Test accuracy on {r['data']} ({acc['n']} images, 95% Wilson interval):", ""]
        for key in ("torch_fp32", "ort_fp32", "ort_int8"):
            if key in acc:
                lines.append(f"- {key.replace('_', ' ')}: {wilson(round(acc[key] * acc['n']), acc['n']).text()}")
        pred = acc.get("predictions", {})
        if "ort_int8" in pred and "ort_fp32" in pred:
            d = paired_predictions(pred["ort_fp32"], pred["ort_int8"], acc["labels"])
            lines.append(f"- INT8 - FP32, paired on the same images (exact McNemar): {d.text()}, "
                         f"{'distinguishable from noise' if d.distinguishable else 'within noise'} (p = {d.p_value:.2g})")
    v = r["versions"]
    lines += ["", "Versions: " + ", ".join(f"{k} {v[k]}" for k in v if v[k]), ""]
    return "\n".join(lines)
