"""In a real browser: each widget notebook runs in JupyterLab and its sliders redraw the picture.

For every notebook in `notebooks/` whose code uses `helpers.widgets` or
`ipywidgets`, this test starts from a copy with its outputs cleared, runs all
cells in JupyterLab (quick mode), checks that no cell shows an error, then
moves each `hosa-<name>` slider of each `.hosa-explorer` with the keyboard and
checks that the picture really changed; a "generate" button is pressed and a
text box given a new text the same way. Screenshots of every explorer before
and after each move are saved under `test-artifacts/browser/<notebook>/`
(git-ignored), so a person can look.

The server and browser come from `jupyterlab_browser.py` beside this file
(shared with bench/slider_latency.py): Debian's Chromium driven by
Playwright, JupyterLab serving cleared copies. Without a browser the test
fails in CI (`CI=true`) and is skipped elsewhere, saying why.
"""
import json
import os
import shutil
import sys

import pytest

from jupyterlab_browser import (ERRORS, KERNEL_IDLE, PICTURE, REDRAWN, ROOT, SLIDER_NAMES, BrowserUnavailable,
                                chromium, move_slider, picture_src, run_all, running_lab,
                                widget_notebooks)

ARTIFACTS = ROOT / "test-artifacts" / "browser"
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason):
    """A missing browser fails the run in CI and skips the test elsewhere."""
    if IN_CI:
        pytest.fail(f"browser test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        with chromium() as browser:
            yield browser
    except BrowserUnavailable as why:
        unavailable(str(why))


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    try:
        with running_lab(tmp_path_factory.mktemp("lab")) as lab:
            yield lab
    except RuntimeError as why:
        pytest.fail(str(why), pytrace=False)


def redraws(page, explorer, act, shot, what):
    """Do `act` and check that the explorer's picture is redrawn, differs and shows no error.

    Screenshots before and after go to `shot`-before.png and `shot`-after.png.
    """
    before_src = picture_src(explorer)
    before_png = explorer.screenshot(path=f"{shot}-before.png")
    act()
    page.wait_for_function(REDRAWN, arg=[explorer.element_handle(), before_src], timeout=30_000, polling=100)
    page.wait_for_function(KERNEL_IDLE)
    after_png = explorer.screenshot(path=f"{shot}-after.png")
    errors = page.evaluate(ERRORS)
    assert not errors, f"{what} shows an error:\n" + "\n\n".join(errors)
    assert after_png != before_png, f"{what} left the picture unchanged"


@pytest.mark.parametrize("notebook", widget_notebooks(), ids=lambda path: path.stem)
def test_widget_notebook_sliders_redraw_in_jupyterlab(notebook, browser, lab):
    kernel = json.loads(notebook.read_text(encoding="utf-8"))["metadata"].get("kernelspec", {}).get("name")
    installed = lab.api("kernelspecs")["kernelspecs"]
    assert kernel in installed, (f"{notebook.name}: metadata.kernelspec.name is {kernel!r}, not one of "
                                 f"the installed kernels {sorted(installed)}; JupyterLab would stop "
                                 "at a kernel-choice dialog")
    out = ARTIFACTS / notebook.stem
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    console_errors = []
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    try:
        errors = run_all(page, lab, notebook)
        assert not errors, f"{notebook.name} shows errors after run-all:\n" + "\n\n".join(errors)

        explorers = page.locator(".hosa-explorer")
        try:
            explorers.first.wait_for(state="attached", timeout=20_000)
        except Exception:  # Playwright's TimeoutError: the count below says what is missing
            pass
        if explorers.count() == 0:
            pytest.fail(f"{notebook.name} uses widgets but shows no .hosa-explorer "
                        "(build slider explorers with helpers.widgets)", pytrace=False)
        moved = 0
        for i in range(explorers.count()):
            explorer = explorers.nth(i)
            explorer.locator(PICTURE).first.wait_for(state="visible")
            names = explorer.evaluate(SLIDER_NAMES)
            assert names or explorer.locator(".widget-text input").count(), (
                f"explorer {i + 1} of {notebook.name} has no hosa-<name> slider and no text box")
            for name in names:
                shot = f"explorer{i + 1}-{name.removeprefix('hosa-')}"
                readout = explorer.locator(f".{name} .widget-readout").first
                before_value = readout.inner_text()
                redraws(page, explorer, lambda: move_slider(page, explorer, name), out / shot,
                        f"moving {name} in explorer {i + 1} of {notebook.name}")
                assert readout.inner_text() != before_value, f"{name} did not move"
                moved += 1
            # A "generate" button samples again; a text box (a prompt) redraws on Enter.
            for button in explorer.locator("button.hosa-generate").all():
                redraws(page, explorer, button.click, out / f"explorer{i + 1}-generate",
                        f"pressing generate in explorer {i + 1} of {notebook.name}")
            for box in explorer.locator(".widget-text input").all():
                def type_a_prompt(box=box):
                    box.fill("The ending of this film")
                    box.press("Enter")
                redraws(page, explorer, type_a_prompt, out / f"explorer{i + 1}-text",
                        f"typing a new text in explorer {i + 1} of {notebook.name}")
        assert moved > 0
    except (Exception, pytest.fail.Exception):
        page.screenshot(path=out / "failure.png")
        if console_errors:
            print("browser console errors:\n" + "\n".join(console_errors[-20:]), file=sys.stderr)
        raise
    finally:
        context.close()
        lab.shutdown_kernels()
