"""Render the notebooks' Mermaid diagrams to PNG and embed each picture in its own cell.

JupyterLab >= 4.1 draws a ```mermaid block in a Markdown cell; Colab, the classic
Notebook, nbviewer and GitHub's notebook view show its raw text. This script finds
every ```mermaid block in notebooks/*.ipynb, renders it with the real Mermaid
renderer (mermaid-cli) and rewrites the block as

    ![Diagram rendered from the Mermaid source below (mermaid-sha256:<12 hex>)](data:image/png;base64,...)

    <details><summary>Mermaid source of this diagram</summary>

    ```mermaid
    ...the unchanged source...
    ```

    </details>

so every reader sees the picture first, and the source stays in the same cell,
folded away (JupyterLab also draws it when the fold is opened). The 12 hex digits
are sha256 of the Mermaid source (the text between the fences, stripped) the
picture was rendered from; tests/test_diagrams.py fails when a block has no
picture or its picture was rendered from another source. Run this script
after editing a diagram.

Run it from the repository root, in the project's virtual environment:

    PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tools   # once: mermaid-cli, pinned by tools/package-lock.json
    python tools/render_diagrams.py                   # renders only the blocks whose source changed
    python tools/render_diagrams.py --force           # all of them (after changing MERMAID_CONFIG)
    python tools/render_diagrams.py --keep /tmp/png   # also writes the PNGs there, to look at

It needs Node.js >= 20 with npm, Debian's Chromium at /usr/bin/chromium
(`apt-get install chromium`; another one via $HOSA_CHROMIUM; puppeteer's own
browser download is skipped, so nothing but the npm registry is reached) and
Pillow (installed with matplotlib), which cuts each PNG to 32 colours (a quarter
of the bytes). As root it runs Chromium with --no-sandbox. mermaid-cli is 11.x:
12.x needs Node.js >= 22, and Debian 12 ships 20.

Why a data: URI in the Markdown, and not a file beside the notebook or a cell attachment:
- a relative link (`![](figures/x.png)`) does not resolve when Colab opens a
  notebook from GitHub: Colab fetches the .ipynb alone;
- cell attachments (`![](attachment:x.png)`, what JupyterLab's paste makes) are
  shown by JupyterLab and the classic Notebook, but not by Colab (its own
  tracker, googlecolab/colabtools#3836, open since 2023: "Google Colab does not
  even render markdown attachments of existing documents"), nor reliably by
  GitHub's notebook view or nbviewer (huggingface/notebooks#578: attachment
  images "will not render properly on GitHub or Colab"; jupyter/nbviewer#692,
  ajwdewit/pcse_notebooks#8, whose fix was to inline the image as base64);
- an inline `data:image/png;base64,` image is what Colab itself writes when an
  image is pasted into a text cell (colabtools#3836), nbviewer passes it through
  (twosigma/beakerx#6377; nbconvert 7 writes it as <img src="data:...">) and
  GitHub's notebook view shows it (pcse_notebooks#8; activeviam/atoti-notebooks#425
  for a data: SVG). JupyterLab 4.6 shows it too (checked in headless Chromium: the
  picture loads, and the ```mermaid block inside <details> is still drawn by
  JupyterLab's Mermaid renderer when the fold opens: the blank lines around the
  fence make it Markdown, not raw HTML).
The picture sits in a Markdown image, so every renderer scales it to the column
(max-width 100%). It is rendered at scale 2, sharp on a high-DPI screen or a
projector, at its natural size with less air than Mermaid's default: 16 px text
in 1130-1300 CSS px, so a 1000 px column shows 12-14 px text (9-10.5 pt).

Notebooks are read again just before each is written and only the Mermaid
cells change, so edits made by others meanwhile, in other cells, are kept.
"""
import argparse
import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MMDC = ROOT / "tools" / "node_modules" / ".bin" / "mmdc"
CHROMIUM = Path(os.environ.get("HOSA_CHROMIUM", "/usr/bin/chromium"))
SCALE = 2
COLOURS = 32
# Natural size (not squeezed into mmdc's 800 px page); labels wide enough that a formula
# such as "Q = X W_Q, K = X W_K, V = X W_V" stays on one line; less air between nodes.
MERMAID_CONFIG = {"flowchart": {"useMaxWidth": False, "nodeSpacing": 30, "rankSpacing": 25,
                                "padding": 8, "wrappingWidth": 260}}

SUMMARY = "<details><summary>Mermaid source of this diagram</summary>"
# A block as this script leaves it (picture, fold, fence), a bare fence as an author writes it,
# or a fold whose picture was deleted.
BLOCK = re.compile(
    r"(?P<fold>(?P<picture>!\[[^\]\n]*\]\(data:image/png;base64,[A-Za-z0-9+/=]*\)\n\n)?"
    + re.escape(SUMMARY) + r"\n\n)?"
    r"^```mermaid[ \t]*\n(?P<source>.*?)^```[ \t]*$"
    r"(?(fold)\n\n</details>)", re.S | re.M)
HASH = re.compile(r"\(mermaid-sha256:([0-9a-f]{12})\)\]")
EMBEDDED_PNG = re.compile(r"\(data:image/png;base64,([A-Za-z0-9+/=]*)\)")


def source_hash(source):
    """First 12 hex digits of sha256 of the Mermaid source (the text between the fences, stripped)."""
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()[:12]


def embedded_block(source, png):
    """The Markdown that replaces a ```mermaid block: picture, then the source folded away."""
    alt = f"Diagram rendered from the Mermaid source below (mermaid-sha256:{source_hash(source)})"
    data = base64.b64encode(png).decode("ascii")
    return (f"![{alt}](data:image/png;base64,{data})\n\n{SUMMARY}\n\n"
            f"```mermaid\n{source.strip()}\n```\n\n</details>")


def up_to_date(match):
    found = HASH.search(match.group("picture") or "")
    return bool(found) and found.group(1) == source_hash(match.group("source"))


def mermaid_cells(notebook):
    return [cell for cell in notebook.cells
            if cell.cell_type == "markdown" and BLOCK.search(cell.source)]


def render(sources, work):
    """PNG bytes for each Mermaid source, rendered by mermaid-cli in headless Chromium."""
    if not sources:
        return {}
    if not MMDC.exists():
        sys.exit(f"no {MMDC.relative_to(ROOT)}: run `PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tools` first")
    if not CHROMIUM.exists():
        sys.exit(f"no Chromium at {CHROMIUM}: `apt-get install chromium`, or set HOSA_CHROMIUM to its path")
    browser_args = ["--disable-gpu"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    (work / "puppeteer.json").write_text(json.dumps({"executablePath": str(CHROMIUM), "args": browser_args}))
    (work / "mermaid.json").write_text(json.dumps(MERMAID_CONFIG))
    env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="1")
    pictures = {}
    for source in sources:
        name = source_hash(source)
        (work / f"{name}.mmd").write_text(source.strip() + "\n", encoding="utf-8")
        command = [str(MMDC), "--quiet", "--input", str(work / f"{name}.mmd"), "--output", str(work / f"{name}.png"),
                   "--configFile", str(work / "mermaid.json"), "--puppeteerConfigFile", str(work / "puppeteer.json"),
                   "--backgroundColor", "white", "--scale", str(SCALE)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"mmdc failed on diagram {name}:\n{source}\n{done.stderr[-3000:]}")
        picture = Image.open(work / f"{name}.png").convert("RGB")
        small = picture.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        small.save(buffer, format="PNG", optimize=True)
        pictures[source.strip()] = buffer.getvalue()
    return pictures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="re-render every diagram, not only changed ones")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="also write the embedded PNGs to DIR")
    args = parser.parse_args()

    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    stale = {match.group("source").strip()
             for path in paths for cell in mermaid_cells(nbformat.read(path, as_version=4))
             for match in BLOCK.finditer(cell.source) if args.force or not up_to_date(match)}
    with tempfile.TemporaryDirectory() as work:
        pictures = render(sorted(stale), Path(work))

    for path in paths:
        # Read again now: others may have changed other cells while we rendered.
        notebook = nbformat.read(path, as_version=4)
        cells = mermaid_cells(notebook)
        changed = 0

        def replace(match):
            nonlocal changed
            png = pictures.get(match.group("source").strip())
            if png is None:
                return match.group(0)
            changed += 1
            return embedded_block(match.group("source"), png)

        for cell in cells:
            cell.source = BLOCK.sub(replace, cell.source)
        if changed:
            nbformat.write(notebook, path)
        for cell in cells:
            for match in BLOCK.finditer(cell.source):
                png = base64.b64decode(EMBEDDED_PNG.search(match.group(0)).group(1))
                width, height = Image.open(io.BytesIO(png)).size
                name = f"mermaid-{source_hash(match.group('source'))}.png"
                print(f"{path.relative_to(ROOT)}: {name} {width}x{height} px, {len(png) / 1024:.0f} KiB"
                      + (" (new)" if match.group("source").strip() in pictures else ""))
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / name).write_bytes(png)


if __name__ == "__main__":
    main()
