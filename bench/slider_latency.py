"""Benchmark: how fast an explorer answers a slider, as a student feels it, in JupyterLab under Chromium.

    python bench/slider_latency.py [--moves 6] [--pause 0.5] [notebook stems or numbers ...]
    (default: every widget notebook)

For each notebook (quick mode, cleared copy; the same server and browser as
tests/test_browser.py, from tests/jupyterlab_browser.py) it runs all cells,
then presses ArrowRight `--moves` times on each slider of each explorer (at
the end of its range, ArrowLeft), each press once the page has shown the
previous picture, the kernel is idle, and `--pause` seconds have passed (a
student looking at the picture; the explorers draw likely next frames
meanwhile; 0: press again at once). Press -> new picture is timed
inside the page: from the keydown event to the moment the new <img> of the
explorer's picture has decoded. Each press reaches a slider value the
explorer has not shown yet (it may have drawn it ahead, as it does while a student looks). A press whose
picture does not change within 5 s (a value clamped to the same view) is
counted apart. Then, inside the kernel, it times a frame: each slider is set
to new values from Python, with the explorers' kept frames forgotten and no
frame being drawn ahead, and the time for the update is taken. Prints per notebook: moves, median,
p90 and max press -> picture, and the kernel's median ms per frame.
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from jupyterlab_browser import (KERNEL_IDLE, PICTURE, SLIDER_NAMES, chromium, move_slider, picture_src,  # noqa: E402
                                run_all, running_lab, widget_notebooks)

# Arm the page before a press: note the keydown time, and the time the explorer's new picture has decoded.
ARM = """([explorer, before]) => {
  window.hosaKeyAt = null; window.hosaShownAt = null;
  document.addEventListener('keydown', () => { window.hosaKeyAt = performance.now(); },
                            {capture: true, once: true});
  const check = () => {
    const img = explorer.querySelector('img.hosa-picture');
    if (!img || img.src === before) return false;
    img.decode().then(() => { if (window.hosaShownAt === null) window.hosaShownAt = performance.now(); },
                      () => {});
    return true;
  };
  const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
  observer.observe(explorer, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}"""
SHOWN = "() => window.hosaShownAt !== null"
LATENCY = "() => window.hosaShownAt - window.hosaKeyAt"

# Inside the kernel: time one frame per new slider value, every explorer, kept frames forgotten.
KERNEL_FRAMES = """
import json as _json, time as _time, ipywidgets as _w
from ipywidgets.widgets import widget as _widget
_times = []
for _panel in list(_widget._instances.values()):
    if not (isinstance(_panel, _w.interactive) and "hosa-explorer" in _panel._dom_classes):
        continue
    for _control in _panel.kwargs_widgets:
        if not hasattr(_control, "max"):
            continue
        for _step in range(1, %d + 1):
            if hasattr(_panel, "frames"):
                _panel.frames.forget()
                _panel.frames.wait()
            _start = _control.value
            _new = _start + _step * _control.step
            _new = _new if _new <= _control.max else _control.min + (_step - 1) * _control.step
            _t = _time.perf_counter()
            _control.value = _new
            _times.append(_time.perf_counter() - _t)
            _control.value = _start
print(_json.dumps(_times))
"""

RUN_IN_KERNEL = """async code => {
  const panel = window.jupyterapp.shell.currentWidget;
  const future = panel.sessionContext.session.kernel.requestExecute({code, silent: false, store_history: false});
  let text = '';
  future.onIOPub = msg => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
  await future.done;
  return text;
}"""


def press_and_time(page, explorer, name, key):
    """ms from the key press to the new picture decoded, or None if the picture did not change."""
    page.evaluate(ARM, [explorer.element_handle(), picture_src(explorer)])
    move_slider(page, explorer, name, key)
    try:
        page.wait_for_function(SHOWN, timeout=5_000, polling="raf")
    except Exception:  # Playwright's TimeoutError: the same picture, nothing new to show
        return None
    finally:
        page.wait_for_function(KERNEL_IDLE)
    return page.evaluate(LATENCY)


def measure(page, lab, notebook, moves, pause):
    errors = run_all(page, lab, notebook)
    if errors:
        raise RuntimeError(f"{notebook.name} shows errors after run-all:\n" + "\n".join(errors))
    explorers = page.locator(".hosa-explorer")
    latencies, unchanged = [], 0
    for i in range(explorers.count()):
        explorer = explorers.nth(i)
        explorer.locator(PICTURE).first.wait_for(state="visible")
        for name in explorer.evaluate(SLIDER_NAMES):
            handle = explorer.locator(f".{name} .noUi-handle").first
            for _ in range(moves):
                page.wait_for_timeout(1000 * pause)
                at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
                ms = press_and_time(page, explorer, name, "ArrowLeft" if at_end else "ArrowRight")
                if ms is None:
                    unchanged += 1
                else:
                    latencies.append(ms)
    # The browser has visited some values; the kernel forgets its kept frames before each timed one.
    kernel = json.loads(page.evaluate(RUN_IN_KERNEL, KERNEL_FRAMES % moves).strip().splitlines()[-1])
    return latencies, unchanged, [1000 * t for t in kernel]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def chosen(names):
    notebooks = widget_notebooks()
    if not names:
        return notebooks
    picked = [nb for nb in notebooks if any(nb.stem == n or nb.stem.startswith(f"{n}_") or
                                            nb.stem.startswith(n.zfill(2) + "_") for n in names)]
    if not picked:
        sys.exit(f"no widget notebook matches {names}; there are {[nb.stem for nb in notebooks]}")
    return picked


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="stems or numbers, e.g. 01 07_imdb_sentiment")
    parser.add_argument("--moves", type=int, default=6, help="presses per slider (default 6)")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between presses (default 0.5)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as base, running_lab(Path(base)) as lab, chromium() as browser:
        for notebook in chosen(args.notebooks):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(60_000)
            start = time.monotonic()
            try:
                latencies, unchanged, kernel = measure(page, lab, notebook, args.moves, args.pause)
            finally:
                context.close()
                lab.shutdown_kernels()
            row = (notebook.stem, len(latencies), statistics.median(latencies), percentile(latencies, 0.9),
                   max(latencies), unchanged, statistics.median(kernel))
            rows.append(row)
            print(f"{notebook.stem}: {len(latencies)} moves, median {row[2]:.0f} ms, p90 {row[3]:.0f} ms, "
                  f"max {row[4]:.0f} ms; kernel {row[6]:.0f} ms/frame ({time.monotonic() - start:.0f} s)",
                  flush=True)
    print(f"\n{args.moves} presses per slider, {args.pause} s apart")
    print("\n| notebook (quick mode) | slider moves | median | p90 | max | unchanged | kernel ms / frame |")
    print("|---|---|---|---|---|---|---|")
    for stem, n, median, p90, most, unchanged, kernel in rows:
        print(f"| {stem} | {n} | {median:.0f} ms | {p90:.0f} ms | {most:.0f} ms | {unchanged} | {kernel:.0f} ms |")


if __name__ == "__main__":
    main()
