"""Decode a QR code from what the browser drew, as a phone camera would: a crop of a page screenshot.

zxing-cpp reads the pixels (Pillow decodes the PNG); both come from the `test` extra.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image
from playwright.async_api import Locator, Page


async def screenshot_crop(page: Page, element: Locator) -> Image.Image:
    """The part of a full-page screenshot that `element` covers, in the page's own pixels."""
    box = await element.bounding_box()
    assert box is not None, "the QR code is not on screen"
    scroll = await page.evaluate("[window.scrollX, window.scrollY]")
    png = await page.screenshot(full_page=True)
    image = Image.open(io.BytesIO(png)).convert("L")
    left, top = round(box["x"] + scroll[0]), round(box["y"] + scroll[1])
    return image.crop((left, top, left + round(box["width"]), top + round(box["height"])))


def decode_qr(image: Image.Image) -> str:
    """The text of the one QR code in `image`; fails the test if there is none."""
    found = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None, "no QR code could be decoded from the image"
    return str(found.text)


def has_light_border(image: Image.Image, width: int) -> bool:
    """Whether the outer `width` pixels all round are light: the quiet zone a scanner needs was drawn."""
    w, h = image.size
    strips = [(0, 0, w, width), (0, h - width, w, h), (0, 0, width, h), (w - width, 0, w, h)]
    return all(image.crop(strip).getextrema()[0] > 200 for strip in strips)
