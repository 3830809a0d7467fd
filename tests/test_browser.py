"""The built pages and decks in a real browser: headless Chromium, driven over its DevTools protocol.

Every page of the series, its index and every slide deck are opened from a local web server; each must load all
its images (naturalWidth > 0), its JavaScript libraries (MathJax, reveal.js: vendored, no CDN) and log no
JavaScript error. Screenshots go to build/screenshots/, among them one slide at projector size (1280x720).
"""

import base64
import functools
import http.server
import io
import json
import shutil
import subprocess
import threading
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from tools import classroom

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
              pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed to fetch reveal.js and MathJax")]
websocket = pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium")

BUILD = classroom.ROOT / "build"
SCREENSHOTS = BUILD / "screenshots"
PROJECTOR = (1280, 720)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars", "--remote-debugging-port=0"]


class Page:
    """One browser tab: `call` sends a DevTools command and returns its result; events are kept in `events`."""

    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id, self.events = 0, []

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return message["result"]
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            assert time.monotonic() < deadline, f"no {event} within {timeout} s"
            self.events.append(json.loads(self.ws.recv()))

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def open(self, url: str, size: tuple[int, int]) -> None:
        self.events.clear()
        self.call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1,
                  mobile=False)
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def errors(self) -> list[str]:
        """JavaScript exceptions, console.error calls and failed loads logged since the page was opened (but not
        the site's missing favicon.ico, which the browser requests by itself)."""
        found = []
        for e in self.events:
            params = e.get("params", {})
            if e.get("method") == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("exception", {}).get("description", str(params)))
            elif e.get("method") == "Runtime.consoleAPICalled" and params["type"] == "error":
                found.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif e.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                url = params["entry"].get("url", "")
                if not url.endswith("/favicon.ico"):  # Chromium asks for one on its own; no page links to it
                    found.append(f"{params['entry']['text']} {url}")
        return found

    def screenshot(self, name: str, timeout: float = 10) -> None:
        """Save a screenshot once the page shows something: a capture taken before the page is drawn, or during a
        slide transition, is blank (issue 23: the title slides of all decks were white), so it is taken again."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
            (SCREENSHOTS / f"{name}.png").write_bytes(png)
            if inked_pixels(png) >= MIN_INK or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert inked_pixels(png) >= MIN_INK, f"screenshot {name}.png is blank: nothing was drawn in {timeout} s"


MIN_INK = 2000  # pixels: a line of heading text has several thousand; a blank page none


def inked_pixels(png: bytes) -> int:
    """How many pixels of a screenshot differ clearly (by more than 48 of 255 in grey) from its commonest colour."""
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int16)
    background = np.bincount(grey.ravel()).argmax()
    return int((np.abs(grey - background) > 48).sum())


@pytest.fixture(scope="module")
def site():
    """The pages and decks built into build/, served on a free localhost port; yields the base URL."""
    build, found = classroom.Build(BUILD, force=True), {p: classroom.read_notebook(p) for p in classroom.notebooks()}
    classroom.build_html(build, found)
    classroom.build_slides(build, found)
    classroom.write_index(build, found)
    handler = functools.partial(Quiet, directory=str(BUILD))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh profile: no state from other runs
    browser = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert browser.poll() is None and time.monotonic() < deadline, "Chromium did not start"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
        target = json.load(urllib.request.urlopen(request, timeout=10))
        tab = Page(target["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log"):
            tab.call(f"{domain}.enable")
        yield tab
        tab.ws.close()
    finally:
        browser.terminate()
        browser.wait(timeout=10)


IMAGES_LOADED = """Promise.all(Array.from(document.images, img => { img.loading = "eager";
    return img.decode().catch(() => null); })).then(() => ({count: document.images.length,
    broken: Array.from(document.images).filter(img => !(img.complete && img.naturalWidth > 0))
                                       .map(img => img.src.slice(0, 60))}))"""
# reveal.js is loaded by require.js (AMD), so it is no global: ask require.js for the same module.
REVEAL_READY = """new Promise(done => require(["../vendor/reveal.js/dist/reveal.js"], reveal => {
    window.Reveal = reveal; reveal.isReady() ? done(true) : reveal.on("ready", () => done(true)); }))"""
# Each slide in turn, with all its fragments shown: which ones are taller than the deck (whose content scrolls off)?
TOO_TALL = """Reveal.getSlides().map(slide => { const at = Reveal.getIndices(slide); Reveal.slide(at.h, at.v, 99);
    return [at.h, at.v, slide.scrollHeight]; }).filter(([h, v, height]) => height > Reveal.getConfig().height)"""
MATH_DONE = "new Promise(done => MathJax.Hub.Queue(() => done(document.querySelectorAll('.MathJax').length)))"


def check_loaded(page: Page, expected_images: int) -> None:
    images = page.evaluate(IMAGES_LOADED)
    assert images["broken"] == [], f"images that did not load: {images['broken']}"
    assert images["count"] >= expected_images
    assert page.evaluate("typeof MathJax") == "object", "MathJax did not load (vendored copy missing?)"
    page.evaluate(MATH_DONE)


def figures(path) -> int:
    """The number of pictures among a notebook's outputs."""
    nb = json.loads(path.read_text())
    return sum("image/jpeg" in o.get("data", {}) or "image/png" in o.get("data", {})
               for c in nb["cells"] for o in c.get("outputs", []))


def test_index_links_every_page_and_deck(site, page):
    page.open(f"{site}/index.html", (1280, 900))
    links = page.evaluate("Array.from(document.links, a => a.getAttribute('href'))")
    for path in classroom.notebooks():  # the English and the Chinese
        assert f"html/{classroom.name(path)}.html" in links and f"slides/{classroom.name(path)}.slides.html" in links
    assert page.errors() == []
    assert_no_boxes(page)
    page.screenshot("index")


@pytest.mark.parametrize("path", classroom.notebooks(), ids=classroom.name)
def test_page_shows_every_figure_without_errors(site, page, path):
    page.open(f"{site}/html/{classroom.name(path)}.html", (1280, 900))
    check_loaded(page, figures(path))
    assert page.errors() == []
    if classroom.chinese(path):
        assert_no_boxes(page)
    page.screenshot(f"page_{classroom.name(path)}")


@pytest.mark.parametrize("path", classroom.notebooks(), ids=classroom.name)
def test_deck_runs_without_errors(site, page, path):
    page.open(f"{site}/slides/{classroom.name(path)}.slides.html", PROJECTOR)
    assert page.evaluate(REVEAL_READY)
    check_loaded(page, 1 if figures(path) else 0)
    assert page.evaluate("Reveal.getTotalSlides()") > 3
    assert page.evaluate(TOO_TALL) == [], "slides (h, v, height) whose content is taller than the projector's 720 px"
    assert page.errors() == []
    page.evaluate("Reveal.slide(0, 0, 0)")  # back to the title: TOO_TALL has walked through every slide
    if classroom.chinese(path):
        assert_no_boxes(page)
    page.screenshot(f"deck_{classroom.name(path)}_title")


# Which Chinese characters would show as empty boxes? Each is drawn in the font of the page's first paragraph of
# Chinese text and compared with U+10FFFD, a private code point no font draws: where no installed font has a
# character, the browser draws the same empty box for both.
BOXES = r"""((extra) => { const text = document.body.innerText + extra;
    const holder = Array.from(document.querySelectorAll("p, li, h1, h2"))
                        .find(e => /[\u4e00-\u9fff]/.test(e.textContent));
    const canvas = document.createElement("canvas"); canvas.width = canvas.height = 48;
    const g = canvas.getContext("2d"); g.font = `32px ${getComputedStyle(holder || document.body).fontFamily}`;
    const draw = ch => { g.clearRect(0, 0, 48, 48); g.fillText(ch, 4, 38);
                         return g.getImageData(0, 0, 48, 48).data.filter((_, i) => i % 4 === 3).join(); };
    const box = draw("\u{10FFFD}"), chars = [...new Set(text.match(/[\u4e00-\u9fff]/g) || [])];
    return {chars: chars.length, boxes: chars.filter(ch => draw(ch) === box).join("")}; })"""


def boxes(page: Page, extra: str = "") -> dict:
    """The page's distinct Chinese characters (with `extra`), and those drawn as empty boxes."""
    return page.evaluate(f"{BOXES}({json.dumps(extra)})")


def assert_no_boxes(page: Page) -> None:
    found = boxes(page)
    assert found["chars"] > 0 and found["boxes"] == "", f"Chinese drawn as boxes (install fonts-noto-cjk): {found}"


def test_the_box_check_finds_a_character_no_font_draws(site, page):
    """The check above can fail: U+9FFF, a Chinese character added to Unicode in 2021 that no installed font draws
    yet (`fc-list :charset=9fff` lists none), is found."""
    page.open(f"{site}/index.html", (1280, 900))
    assert boxes(page, "\u9fff")["boxes"] == "\u9fff"


def test_a_figure_slide_at_projector_size(site, page):
    """The result slide of notebook 5 (its second with a figure, after the live plot: content, style, result) at
    1280x720: the screenshot shows whether its figure is legible."""
    path = next(p for p in classroom.notebooks() if p.name.startswith("05_"))
    page.open(f"{site}/slides/{path.stem}.slides.html", PROJECTOR)
    page.evaluate(REVEAL_READY)
    shown = page.evaluate("""(() => { const slides = Reveal.getSlides().filter(s => s.querySelector('img'));
        const slide = slides[1] || slides[0]; const at = Reveal.getIndices(slide); Reveal.slide(at.h, at.v, 99);
        const img = Reveal.getCurrentSlide().querySelector('img'); const box = img.getBoundingClientRect();
        return {width: box.width, height: box.height, top: box.top, bottom: box.bottom}; })()""")
    time.sleep(1)  # the slide transition
    assert shown["width"] > PROJECTOR[0] / 3, "the figure is too small to read on a projector"
    assert 0 <= shown["top"] and shown["bottom"] <= PROJECTOR[1], "the figure does not fit on the slide"
    assert page.errors() == []
    page.screenshot("projector_slide")
