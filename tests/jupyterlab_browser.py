"""JupyterLab in headless Chromium, for the browser test and bench/slider_latency.py.

Starts a JupyterLab server on 127.0.0.1 that serves copies of the notebooks
with their outputs cleared (the committed notebooks are never touched:
autosave is off), launches Debian's Chromium (`/usr/bin/chromium`, or
`$HOSA_CHROMIUM`) through Playwright for Python (its own browser download is
not used; when Chromium is missing and we run as root on a system with
apt-get, Debian's `chromium` package is installed), opens a notebook, runs
all its cells and moves the explorers' sliders with the keyboard. Anything
that keeps the browser from running raises `BrowserUnavailable`.
"""
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM = Path(os.environ.get("HOSA_CHROMIUM", "/usr/bin/chromium"))
USES_WIDGETS = re.compile(
    r"\bipywidgets\b|\bhelpers\.(\w+_)?widgets\b|from\s+helpers\s+import\s+[^\n]*\bwidgets\b")
# Headless Debian Chromium, run as root on a server without a GPU, with no background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Written into the server's own settings folder: no news toast over the page, every cell
# rendered (no virtual scrolling), and no autosave of the copies.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}


class BrowserUnavailable(Exception):
    """No browser can run here; the message says why and what to install."""


def widget_notebooks():
    """The notebooks whose code cells use a widget, in teaching order."""
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        if USES_WIDGETS.search(code):
            found.append(path)
    return found


# --- the browser --------------------------------------------------------------------------

def ensure_chromium():
    """Path of a Chromium executable, installing Debian's package if we may."""
    if CHROMIUM.exists():
        return CHROMIUM
    may_install = (os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get")
                   and str(CHROMIUM) == "/usr/bin/chromium")
    if not may_install:
        raise BrowserUnavailable(f"no Chromium at {CHROMIUM}; install it (Debian/Ubuntu: "
                                 "`sudo apt-get install -y chromium`) or set HOSA_CHROMIUM to its path")
    print("\ninstalling Debian's chromium for the browser test (apt-get) ...", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BrowserUnavailable(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr[-2000:]}")
    if not CHROMIUM.exists():
        raise BrowserUnavailable(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


@contextlib.contextmanager
def chromium():
    """A headless Chromium driven by Playwright, closed on exit."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserUnavailable("Playwright for Python is not installed: "
                                 "`python -m pip install -r requirements.txt`") from None
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(executable), headless=True,
                                                 args=CHROMIUM_ARGS)
        except Exception as err:  # Playwright raises its own Error type on a bad binary
            raise BrowserUnavailable(f"Playwright could not start {executable}: {err}") from None
        try:
            yield browser
        finally:
            browser.close()


# --- the JupyterLab server ----------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_cleared(source, target):
    """Copy a notebook without outputs, counts or saved widget state: all we see is fresh."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook["metadata"].pop("widgets", None)
    target.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


class Lab:
    def __init__(self, url, token):
        self.url, self.token = url, token

    def notebook_url(self, name):
        return f"{self.url}/lab/tree/notebooks/{name}?reset&token={self.token}"

    def api(self, path, method="GET"):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self):
        """Free the CPU for the next notebook."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")


@contextlib.contextmanager
def running_lab(base):
    """JupyterLab on 127.0.0.1 serving cleared copies of the notebooks, kernels in quick mode.

    base: an empty folder for the copies, settings and log. Raises RuntimeError
    when the server exits or does not answer within 120 s.
    """
    root, settings, workspaces, runtime, config = (base / name for name in
                                                  ("root", "settings", "workspaces", "runtime", "config"))
    for folder in (root / "notebooks", workspaces, runtime, config):
        folder.mkdir(parents=True)
    # The copies sit where the originals do, so relative paths from a notebook still resolve.
    for entry in ROOT.iterdir():
        if entry.name not in {"notebooks", ".git", "test-artifacts", ".venv"}:
            (root / entry.name).symlink_to(entry)
    for path in NOTEBOOKS.iterdir():
        if path.suffix == ".ipynb":
            copy_cleared(path, root / "notebooks" / path.name)
        elif path.is_file():
            shutil.copy2(path, root / "notebooks" / path.name)
    for plugin, values in LAB_SETTINGS.items():
        file = settings / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))

    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, HOSA_MODE="quick", JUPYTER_RUNTIME_DIR=str(runtime),
               JUPYTER_CONFIG_DIR=str(config))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
               f"--LabApp.workspaces_dir={workspaces}", "--LabApp.expose_app_in_browser=True"]
    if os.name == "posix" and os.geteuid() == 0:
        command.append("--allow-root")
    log_path = base / "jupyterlab.log"
    log = log_path.open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                lab.api("status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not answer within 120 s") from None
                time.sleep(0.5)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
# --- what the page is asked (synchronous predicates: wait_for_function does not await) ---

CURRENT = "const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;"

KERNEL_READY = f"""name => {{ {CURRENT}
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
                 && panel.sessionContext.session.kernel;
  return !!(panel && panel.context && panel.context.path.endsWith(name) && panel.content.model
            && kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle');
}}"""

OUTPUTS = """const outputs = cell => Array.from({length: cell.outputs.length}, (_, i) => cell.outputs.get(i));
const codeCells = Array.from(panel.content.model.cells).filter(cell => cell.type === 'code');"""

RUN_FINISHED = f"""() => {{ {CURRENT} {OUTPUTS}
  if (panel.sessionContext.session.kernel.status !== 'idle') return false;
  const failed = codeCells.some(cell => outputs(cell).some(out => out.type === 'error'));
  return failed || codeCells.every(cell => cell.executionCount !== null);
}}"""

KERNEL_IDLE = f"""() => {{ {CURRENT}
  return panel.sessionContext.session.kernel.status === 'idle';
}}"""

# Error outputs of cells, and any traceback shown as stderr (also inside widget outputs).
ERRORS = f"""() => {{ {CURRENT} {OUTPUTS}
  const errors = [];
  codeCells.forEach((cell, i) => outputs(cell).forEach(out => {{
    if (out.type === 'error') {{
      const data = out.toJSON();
      errors.push(`code cell ${{i + 1}}: ${{data.ename}}: ${{data.evalue}}`);
    }}
  }}));
  document.querySelectorAll('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')
    .forEach(node => {{
      if (/Traceback/.test(node.textContent)) errors.push(node.textContent.slice(-1500));
    }});
  return errors;
}}"""

# What the kernel itself says its mode is (evaluate awaits this promise).
KERNEL_MODE = f"""async () => {{ {CURRENT}
  const future = panel.sessionContext.session.kernel.requestExecute(
    {{code: 'import helpers; print(helpers.MODE, end="")', silent: false, store_history: false}});
  let text = '';
  future.onIOPub = msg => {{ if (msg.header.msg_type === 'stream') text += msg.content.text; }};
  await future.done;
  return text;
}}"""

SLIDER_NAMES = """explorer => Array.from(explorer.querySelectorAll('.widget-slider'))
  .map(slider => Array.from(slider.classList).find(name => name.startsWith('hosa-')))
  .filter(name => name)"""

# The explorer's picture (its Image widget, class hosa-picture) has changed from `before` and
# finished loading, or the explorer shows an error.
PICTURE = ".hosa-picture"
REDRAWN = """([explorer, before]) => {
  const img = explorer.querySelector('img.hosa-picture');
  const error = explorer.querySelector(
    '.widget-output .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]');
  return !!(error || (img && img.complete && img.naturalWidth > 0 && img.src !== before));
}"""


def picture_src(explorer):
    return explorer.locator(PICTURE).first.get_attribute("src")


def move_slider(page, explorer, name, key=None):
    """Focus the slider's handle and press `key` (default: End, or Home if it is already at the end)."""
    handle = explorer.locator(f".{name} .noUi-handle").first
    if key is None:
        at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        key = "Home" if at_end else "End"
    handle.focus()
    page.keyboard.press(key)


def run_all(page, lab, notebook):
    """Open `notebook` (a path in notebooks/) in JupyterLab, check its kernel is in quick mode, run all cells.

    Returns the errors the page shows afterwards (empty when every cell ran).
    """
    page.goto(lab.notebook_url(notebook.name))
    page.wait_for_function(KERNEL_READY, arg=notebook.name, timeout=120_000)
    mode = page.evaluate(KERNEL_MODE)
    if mode != "quick":
        raise AssertionError(f"the notebook's kernel is in {mode!r} mode, not quick")
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(RUN_FINISHED, timeout=300_000, polling=250)
    return page.evaluate(ERRORS)
