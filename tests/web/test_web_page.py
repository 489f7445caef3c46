"""The page in a real headless Chromium: a known digit through the page's own preprocessing, logits vs
onnxruntime, isolation and threads, no request leaving 127.0.0.1, phone width, screenshots."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeprune.bench.backends.web import browser_page, local_only, ort_logits

pytestmark = pytest.mark.browser

DRAW_DIGIT = """([pixels, w, h]) => {
  const img = new ImageData(w, h);
  pixels.forEach((v, i) => { img.data.set([v, v, v, 255], 4 * i); });
  const small = document.createElement('canvas'); small.width = w; small.height = h;
  small.getContext('2d').putImageData(img, 0, 0);
  const pad = document.getElementById('pad'), ctx = pad.getContext('2d');
  ctx.imageSmoothingEnabled = true; ctx.drawImage(small, 0, 0, pad.width, pad.height);
  return img;
}"""


@pytest.fixture(scope="module")
def served(web_bundle, need_browser):
    from edgeprune.runtime.serve import Serving

    with Serving(web_bundle) as srv:
        yield srv.url


def _known_digit(digits, model, mean: float, std: float):
    """The first test digit onnxruntime classifies right, as 8-bit gray pixels (ink high, as in training),
    its label and the normalized input the page must compute from those pixels."""
    for index in range(50):
        x, y = digits.test[index]
        raw = x.numpy()[0] * digits.std[0] + digits.mean[0]  # back to [0, 1]
        pixels = np.clip(np.round(raw * 255), 0, 255).astype(np.uint8)
        expect = ((pixels.astype(np.float64) / 255 - mean) / std).astype(np.float32)[None, None]
        if int(np.argmax(ort_logits(model, expect))) == int(y):
            return pixels, int(y), expect
    raise AssertionError("the tiny model got none of the first 50 test digits right")


def test_known_digit_matches_onnxruntime(served, web_bundle, digits, artifacts_dir):
    m = json.loads((web_bundle / "manifest.json").read_text())
    pixels, label, expect_x = _known_digit(digits, web_bundle / "model.onnx", m["mean"][0], m["std"][0])
    ref = ort_logits(web_bundle / "model.onnx", expect_x)[0]
    with browser_page(served + "?threads=1", block_offsite=False) as page:
        got = page.evaluate(f"async (args) => {{ const img = ({DRAW_DIGIT})(args); const r = await window.edgeprune.classify(img); "
                            "return {input: r.input, logits: r.logits, predicted: r.predicted, ms: r.ms}; }",
                            [pixels.ravel().tolist(), 32, 32])
        np.testing.assert_allclose(np.array(got["input"], np.float32), expect_x.ravel(), atol=1e-6)
        np.testing.assert_allclose(np.array(got["logits"]), ref, atol=1e-4)
        assert got["predicted"] == int(np.argmax(ref)) == label
        # the same digit drawn large on the pad goes through the page's resize path
        again = page.evaluate("async () => (await window.edgeprune.classify(document.getElementById('pad'))).predicted")
        assert again == label
        assert page.locator("#topk li").count() == 5
        assert page.locator("#topk li .label").first.inner_text() == m["labels"][label]
        page.screenshot(path=str(artifacts_dir / "web-page.png"), full_page=True)
        assert not page.edgeprune_errors


def test_two_threads_are_really_used_when_isolated(served):
    with browser_page(served + "?threads=2", block_offsite=False) as page:
        b = page.evaluate("window.edgeprune.benchmark({warmup: 2, runs: 10})")
        assert b["crossOriginIsolated"] is True and b["threads"] == 2
        assert len(b["samples"]) == 10 and b["p50"] > 0 and b["p90"] >= b["p50"]
        assert len(page.edgeprune_workers) >= 1  # onnxruntime's pthread pool: a real second thread
        assert page.locator("#coi").inner_text() == "true" and page.locator("#threads-used").inner_text() == "2"
    with browser_page(served + "?threads=1", block_offsite=False) as page:
        assert page.evaluate("window.edgeprune.environment().threads") == 1
        assert page.edgeprune_workers == []


def test_every_request_stays_on_127_0_0_1(served):
    with browser_page(served, block_offsite=False) as page:
        page.evaluate("window.edgeprune.classify(new Float32Array(32 * 32))")
        page.locator("#bench").click()
        page.wait_for_function("document.getElementById('p50').textContent.endsWith('ms')")
        requests = list(page.edgeprune_requests)
    assert any(u.endswith("/ort/ort-wasm-simd-threaded.wasm") for u in requests)
    assert any(u.endswith("/model.onnx") for u in requests)
    assert [u for u in requests if not local_only(u)] == []


def test_drawing_and_phone_width(served, artifacts_dir):
    with browser_page(served, block_offsite=False) as page:
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = page.locator("#pad").bounding_box()
        assert box["width"] <= 390
        x0, y0, w = box["x"], box["y"], box["width"]
        page.mouse.move(x0 + 0.5 * w, y0 + 0.15 * w)
        page.mouse.down()
        page.mouse.move(x0 + 0.5 * w, y0 + 0.85 * w, steps=12)  # a "1"
        page.mouse.up()
        page.wait_for_function("document.querySelectorAll('#topk li').length === 5")
        ink = page.evaluate("Array.from(document.getElementById('pad').getContext('2d').getImageData(0,0,224,224).data)"
                            ".filter((v, i) => i % 4 === 0 && v > 128).length")
        assert ink > 0  # white ink on black, as the digits were trained
        page.screenshot(path=str(artifacts_dir / "web-page-phone.png"), full_page=True)
