// edgeprune web page: loads manifest.json + model.onnx with onnxruntime-web (wasm), preprocesses like
// training (resize, channels, [0,1], (x - mean) / std), classifies, benchmarks. window.edgeprune is the
// API that tests and the bench backend drive, so they exercise the page's own code paths.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const maxThreads = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  const threads = Math.max(1, Math.min(maxThreads, Number(params.get("threads")) || maxThreads));
  ort.env.wasm.wasmPaths = new URL("ort/", location.href).href;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;

  const sessions = new Map(); // url -> {session, initMs}
  let manifest = null;
  let lastInput = null;

  async function load(url) {
    if (!sessions.has(url)) {
      const t0 = performance.now();
      const session = await ort.InferenceSession.create(url, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
      sessions.set(url, { session, initMs: performance.now() - t0 });
    }
    return sessions.get(url);
  }

  // ---- preprocessing: everything becomes C*H*W floats in [0,1], then (x - mean) / std ----
  function rawFromImageData(img, invert) {
    const [c, h, w] = manifest.input_shape;
    if (img.width !== w || img.height !== h) img = resizeImage(img, w, h);
    const out = new Float32Array(c * h * w);
    const px = img.data;
    for (let i = 0; i < h * w; i++) {
      const r = px[4 * i] / 255, g = px[4 * i + 1] / 255, b = px[4 * i + 2] / 255;
      if (c === 1) {
        const v = (r === g && g === b) ? r : 0.299 * r + 0.587 * g + 0.114 * b;
        out[i] = invert ? 1 - v : v;
      } else {
        const rgb = [r, g, b];
        for (let k = 0; k < c; k++) out[k * h * w + i] = invert ? 1 - rgb[k % 3] : rgb[k % 3];
      }
    }
    return out;
  }

  function resizeImage(src, w, h) {
    const canvas = document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, w, h);
    if (src instanceof ImageData) {
      const tmp = document.createElement("canvas");
      tmp.width = src.width; tmp.height = src.height;
      tmp.getContext("2d").putImageData(src, 0, 0);
      src = tmp;
    }
    ctx.drawImage(src, 0, 0, w, h);
    return ctx.getImageData(0, 0, w, h);
  }

  function normalize(raw) {
    const [c, h, w] = manifest.input_shape;
    if (raw.length !== c * h * w) throw new Error(`expected ${c * h * w} pixels (${c}x${h}x${w}), got ${raw.length}`);
    const out = new Float32Array(raw.length);
    for (let k = 0; k < c; k++) {
      const m = manifest.mean[k % manifest.mean.length], s = manifest.std[k % manifest.std.length];
      for (let i = k * h * w; i < (k + 1) * h * w; i++) out[i] = (raw[i] - m) / s;
    }
    return out;
  }

  // src: ImageData, a canvas/image/bitmap, or raw [0,1] pixels (Float32Array or Array, C*H*W)
  function preprocess(src, opts = {}) {
    const invert = opts.invert ?? false;
    let raw;
    if (src instanceof Float32Array || Array.isArray(src)) raw = Float32Array.from(src, (v) => (invert ? 1 - v : v));
    else if (src instanceof ImageData) raw = rawFromImageData(src, invert);
    else { const [, h, w] = manifest.input_shape; raw = rawFromImageData(resizeImage(src, w, h), invert); }
    lastInput = raw;
    return normalize(raw);
  }

  async function run(tensorData, url = manifest.model, batch = 1, shape = manifest.input_shape) {
    const { session } = await load(url);
    const [c, h, w] = shape;
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", Float32Array.from(tensorData), [batch, c, h, w]) };
    const t0 = performance.now();
    const out = await session.run(feeds);
    const ms = performance.now() - t0;
    return { logits: Array.from(out[session.outputNames[0]].data), ms };
  }

  function softmax(logits) {
    const m = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  }

  async function classify(src, opts = {}) {
    const x = preprocess(src, opts);
    const { logits, ms } = await run(x);
    const probs = softmax(logits);
    const order = probs.map((p, i) => i).sort((a, b) => probs[b] - probs[a]);
    const top = order.slice(0, opts.k ?? 5).map((i) => ({ index: i, label: manifest.labels[i] ?? String(i), prob: probs[i] }));
    const result = { input: Array.from(x), logits, probs, top, ms, predicted: order[0] };
    showResult(result);
    return result;
  }

  // ---- timing: the same protocol as edgeprune/runtime/timing.py, in the page ----
  const pct = (xs, q) => {
    const s = [...xs].sort((a, b) => a - b);
    const pos = (s.length - 1) * q / 100, lo = Math.floor(pos), hi = Math.ceil(pos);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  };

  async function timeOnce(session, feeds) {
    const t0 = performance.now();
    await session.run(feeds);
    return performance.now() - t0;
  }

  function feedsFor(session, input, batch, shape = manifest.input_shape) {
    const [c, h, w] = shape;
    const n = batch * c * h * w;
    const data = input ? Float32Array.from(input) : Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
    return { [session.inputNames[0]]: new ort.Tensor("float32", data, [batch, c, h, w]) };
  }

  // models: [{url, shape: [C, H, W], input: floats or null}]; preset: {warmup_runs, warmup_s, min_runs,
  // min_rounds, min_time_s, max_time_s}; baseline and candidates interleaved in rounds, order rotating
  async function protocol({ models, preset, batch = 1 }) {
    const perRound = Math.max(1, Math.ceil(preset.min_runs / preset.min_rounds));
    const live = [], results = [];
    for (const { url, shape, input } of models) {
      const res = { name: url, init_ms: null, first_ms: null, rounds: [], info: {}, error: null };
      results.push(res);
      try {
        const { session, initMs } = await load(url);
        const feeds = feedsFor(session, input, batch, shape);
        res.init_ms = initMs;
        res.first_ms = await timeOnce(session, feeds);
        const t0 = performance.now();
        for (let n = 0; n < preset.warmup_runs && performance.now() - t0 < preset.warmup_s * 1e3; n++) await session.run(feeds);
        live.push({ session, feeds, res, spent: 0 });
      } catch (e) {
        res.error = String(e && e.message || e);
      }
    }
    for (let r = 0; live.length; r++) {
      const per = new Map();
      for (let j = 0; j < live.length; j++) {
        const m = live[(j + r) % live.length], xs = [];
        if (live.length > 1) await settle(m, preset);
        const budget = preset.min_time_s * 1e3 / preset.min_rounds; // timing.py's _timed_turn
        for (let spent = 0; xs.length < perRound || spent < budget;) {
          xs.push(await timeOnce(m.session, m.feeds));
          spent += xs[xs.length - 1];
        }
        m.spent += xs.reduce((a, b) => a + b, 0);
        per.set(m, xs);
      }
      for (const m of live) m.res.rounds.push(per.get(m));
      const spent = live.map((m) => m.spent), rounds = r + 1;
      const done = rounds >= preset.min_rounds && rounds * perRound >= preset.min_runs && Math.min(...spent) >= preset.min_time_s * 1e3;
      if (done || (rounds >= 3 && Math.max(...spent) >= preset.max_time_s * 1e3)) break;
    }
    for (const res of results) res.info = environment();
    return results;
  }

  // timing.py's settle: untimed runs before a model's turn, so the previous model's workers are idle.
  async function settle(m, preset) {
    const t0 = performance.now(), runs = preset.switch_runs ?? 3, secs = preset.switch_s ?? 0.03;
    for (let n = 0; n < runs || performance.now() - t0 < secs * 1e3; n++) await m.session.run(m.feeds);
  }

  function environment() {
    return { threads: ort.env.wasm.numThreads, crossOriginIsolated: self.crossOriginIsolated,
             hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent,
             ort: ort.env.versions ? ort.env.versions.common : manifest.runtime.version, backend: "wasm" };
  }

  async function benchmark({ warmup = 10, runs = 100, input = null } = {}) {
    const { session } = await load(manifest.model);
    const feeds = feedsFor(session, input ?? (lastInput ? normalize(lastInput) : null), 1);
    for (let i = 0; i < warmup; i++) await session.run(feeds);
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await timeOnce(session, feeds));
    const out = { samples, p50: pct(samples, 50), p90: pct(samples, 90), runs, ...environment() };
    showBench(out);
    return out;
  }

  // ---- UI ----
  const pad = $("pad"), pctx = pad.getContext("2d", { willReadFrequently: true });

  function clearPad() {
    pctx.fillStyle = "#000";
    pctx.fillRect(0, 0, pad.width, pad.height);
  }

  function showResult(r) {
    const ol = $("topk");
    ol.replaceChildren(...r.top.map((t) => {
      const li = document.createElement("li");
      const label = document.createElement("span"); label.className = "label"; label.textContent = t.label;
      const bar = document.createElement("div"); bar.className = "bar"; bar.style.width = `${(100 * t.prob).toFixed(1)}%`;
      const barBox = document.createElement("div"); barBox.append(bar);
      const p = document.createElement("span"); p.className = "p"; p.textContent = `${(100 * t.prob).toFixed(1)}%`;
      li.append(label, barBox, p);
      return li;
    }));
    $("time").textContent = `inference ${r.ms.toFixed(2)} ms · ${ort.env.wasm.numThreads} thread(s)`;
    showSeen();
  }

  function showSeen() {
    if (!lastInput) return;
    const [c, h, w] = manifest.input_shape, seen = $("seen");
    seen.width = w; seen.height = h;
    const img = new ImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) img.data[4 * i + k] = 255 * lastInput[(c === 1 ? 0 : k % c) * h * w + i];
      img.data[4 * i + 3] = 255;
    }
    seen.getContext("2d").putImageData(img, 0, 0);
  }

  function showBench(b) {
    $("p50").textContent = `${b.p50.toFixed(2)} ms`;
    $("p90").textContent = `${b.p90.toFixed(2)} ms`;
    $("threads-used").textContent = String(b.threads);
    $("coi").textContent = String(b.crossOriginIsolated);
  }

  function setStatus(text, error = false) {
    $("status").textContent = text;
    $("status").classList.toggle("error", error);
  }

  // A dropped image is classified itself, stretched to the input size like training's Resize((s, s));
  // the pad only shows it letterboxed.
  let dropped = null;
  async function classifyPad() {
    try { await classify(dropped || pad, { invert: $("invert").checked }); } catch (e) { setStatus(String(e), true); }
  }

  function wireDrawing() {
    let drawing = false, last = null;
    const at = (e) => { const b = pad.getBoundingClientRect(); return [(e.clientX - b.left) * pad.width / b.width, (e.clientY - b.top) * pad.height / b.height]; };
    pad.addEventListener("pointerdown", (e) => { if (dropped) { dropped = null; clearPad(); } drawing = true; last = at(e); pad.setPointerCapture(e.pointerId); stroke(last, last); });
    pad.addEventListener("pointermove", (e) => { if (drawing) { const p = at(e); stroke(last, p); last = p; } });
    const end = () => { if (drawing) { drawing = false; classifyPad(); } };
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointercancel", end);
  }

  function stroke(a, b) {
    pctx.strokeStyle = "#fff"; pctx.lineWidth = pad.width / 6; pctx.lineCap = "round"; pctx.lineJoin = "round";
    pctx.beginPath(); pctx.moveTo(a[0], a[1]); pctx.lineTo(b[0], b[1]); pctx.stroke();
  }

  async function useFile(file) {
    if (!file || !file.type.startsWith("image/")) { setStatus("not an image file", true); return; }
    const bmp = await createImageBitmap(file);
    clearPad();
    dropped = bmp;
    const s = Math.min(pad.width / bmp.width, pad.height / bmp.height);
    const w = bmp.width * s, h = bmp.height * s;
    pctx.drawImage(bmp, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    if (manifest.input_shape[0] === 1) { // light paper, dark ink: the model was trained on light ink
      const d = pctx.getImageData(0, 0, pad.width, pad.height).data;
      let sum = 0; for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
      $("invert").checked = sum / (d.length / 4) / 765 > 0.5;
    }
    await classifyPad();
  }

  function wireUi() {
    clearPad();
    $("title").textContent = manifest.title;
    $("pad-hint").textContent = manifest.draw ? "draw a digit, or drop an image" : "drop an image";
    if (!manifest.draw) pad.style.cursor = "default"; else wireDrawing();
    $("clear").addEventListener("click", () => { dropped = null; clearPad(); $("topk").replaceChildren(); $("time").textContent = ""; });
    $("invert").addEventListener("change", classifyPad);
    $("file").addEventListener("change", (e) => useFile(e.target.files[0]));
    const drop = $("drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); useFile(e.dataTransfer.files[0]); });
    const sel = $("threads");
    for (let t = 1; t <= Math.max(maxThreads, threads); t++) sel.add(new Option(String(t), String(t), false, t === threads));
    sel.addEventListener("change", () => { params.set("threads", sel.value); location.search = params.toString(); });
    $("bench").addEventListener("click", async () => {
      $("bench").disabled = true;
      try { await benchmark({ runs: Number($("runs").value) }); } catch (e) { setStatus(String(e), true); }
      $("bench").disabled = false;
    });
    $("coi").textContent = String(self.crossOriginIsolated);
    $("threads-used").textContent = String(threads);
    $("runtime").textContent = `onnxruntime-web ${manifest.runtime.version} (wasm)`;
  }

  const ready = (async () => {
    manifest = await (await fetch("manifest.json")).json();
    const { initMs } = await load(manifest.model);
    wireUi();
    setStatus(`ready · model loaded in ${initMs.toFixed(0)} ms · ${threads} thread(s)` +
              (self.crossOriginIsolated ? "" : " · not cross-origin isolated (1 thread only)"));
    return true;
  })().catch((e) => { setStatus(`failed to load: ${e && e.message || e}`, true); throw e; });

  window.edgeprune = { ready, load, preprocess, normalize, run, classify, benchmark, protocol, environment,
                       get manifest() { return manifest; }, threads };
})();
