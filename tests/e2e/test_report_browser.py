"""The HTML report in a real browser: Debian's headless Chromium loads the file, its DOM holds every diff
row and no script, and a screenshot shows the rows painted in their kind's colour.

Chromium comes from the system package (`make setup` installs it); never a test tool's own download.
Only the standard library reads the DOM (html.parser) and the screenshot (zlib + struct).
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import signal
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from bridge.report import render
from tests.unit.report_samples import ATTR, SCRIPT, Page, hostile_report

WIDTH, HEIGHT = 1280, 3000  # the sample report, both workflows: every kind of row above the fold
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def find_chromium() -> str:
    """Debian's chromium; a missing browser fails the test (it is part of `make setup`), never skips it."""
    for candidate in (os.environ.get("BRIDGE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "headless Chromium is missing (no /usr/bin/chromium): run `make setup`, which installs "
        "Debian's `chromium` package",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The hostile report rendered to a file: its path and the HTML as written."""
    doc = render(hostile_report(), "html")
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(doc, encoding="utf-8")
    return path, doc


def run_chromium(
    binary: str, profile: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """One headless Chromium in its own process group, with a profile of its own; the whole group is
    killed afterwards so no renderer outlives the test."""
    cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"chromium did not finish in {timeout:.0f} s: {' '.join(cmd)}\n{err[-3000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def expected_kinds(doc: str) -> list[str]:
    return re.findall(r'<tr class="diff-row kind-[a-z_]+" data-kind="([^"]*)"', doc)


def test_the_browser_dom_has_every_diff_row_and_no_script(page: tuple[Path, str], tmp_path: Path) -> None:
    chromium = find_chromium()
    path, doc = page
    proc = run_chromium(chromium, tmp_path / "profile", "--dump-dom", path.as_uri())
    assert proc.returncode == 0, proc.stderr[-3000:]
    dom = Page(proc.stdout)
    assert dom.tags("main"), f"chromium gave no page:\n{proc.stdout[:500]}\n{proc.stderr[-2000:]}"
    assert not dom.tags("script")
    assert not any(name.startswith("on") for _, attrs in dom.elements for name in attrs)
    kinds = [row["attrs"]["data-kind"] for row in dom.rows]
    assert len(kinds) == 6
    assert kinds == [html.unescape(k) for k in expected_kinds(doc)]
    assert kinds[:5] == ["changed", "type_changed", "only_prefect", "noise", "changed"]
    assert kinds[5] == ATTR + SCRIPT  # an unknown kind: kept as text in the attribute, styled as unknown
    hostile = dom.rows[4]["text"]
    assert SCRIPT in hostile and ATTR in hostile  # the browser shows the value as text, nothing ran
    assert [a["href"] for a in dom.tags("a") if (a["href"] or "").startswith("http")]


def decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Width, height, unfiltered rows and bytes per pixel of an 8-bit RGB(A) non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, header, idat = 8, b"", []
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        header = body if kind == b"IHDR" else header
        if kind == b"IDAT":
            idat.append(body)
        pos += 12 + size
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unexpected PNG format {depth=} {color=}"
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=False))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif kind == 4:
            for i in range(stride):
                a, b = (line[i - bpp] if i >= bpp else 0), prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def pixel_counts(png: bytes, size: tuple[int, int]) -> Counter[tuple[int, int, int]]:
    """How many pixels of each RGB colour a screenshot of ``size`` (checked) has."""
    width, height, rows, bpp = decode_png(png)
    assert (width, height) == size
    pixels: Counter[tuple[int, int, int]] = Counter()
    for line in rows:
        pixels.update(zip(line[0::bpp], line[1::bpp], line[2::bpp], strict=False))
    return pixels


def row_colours(doc: str) -> dict[str, tuple[int, int, int]]:
    """The background of each kind's rows, read from the page's own CSS."""
    found = {}
    for kinds, colour in re.findall(r"((?:tr\.kind-[a-z_]+ td,? ?)+)\{ background: #([0-9a-f]{6});", doc):
        for kind in re.findall(r"tr\.kind-([a-z_]+)", kinds):
            found[kind] = (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
    return found


def test_a_screenshot_shows_the_diff_rows(page: tuple[Path, str], tmp_path: Path) -> None:
    chromium = find_chromium()
    path, doc = page
    shot = tmp_path / "report.png"
    proc = run_chromium(
        chromium,
        tmp_path / "profile",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--screenshot={shot}",
        path.as_uri(),
    )
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-3000:]
    pixels = pixel_counts(shot.read_bytes(), (WIDTH, HEIGHT))
    width, height = WIDTH, HEIGHT
    assert len(pixels) > 100, f"a nearly blank page: {len(pixels)} colours"
    white = pixels[(255, 255, 255)] / (width * height)
    assert 0.3 < white < 0.98, f"{white:.0%} of the page is white"
    colours = row_colours(doc)
    assert {"changed", "type_changed", "only_prefect", "noise", "unknown", "only_airflow"} <= set(colours)
    for kind in ("changed", "type_changed", "only_prefect", "noise", "unknown", "only_airflow"):
        painted = pixels[colours[kind]]
        # one table row is about 1100 x 28 pixels; a row hidden, collapsed or off the page paints none
        assert painted > 15_000, f"rows of kind {kind!r} are not visible: {painted} pixels of {colours[kind]}"
