"""Chromium's fake camera plays a .y4m file: this writes one showing a QR code, for scanning tests."""

from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 640, 480


def write_qr_video(
    path: Path, text: str, frames: int = 10, *, module_px: float | None = None, damaged: bool = False
) -> Path:
    """A short 4:2:0 Y4M video of a black-on-white QR code of `text`, centred on a grey background.

    By default the code fills most of the frame. `module_px` draws it small instead (that many pixels per
    module, as a code seen from afar); `damaged` smudges it as a worn, creased print: a grey blot over
    part of its data, a crease across it, and a slight blur. Error correction M restores the data."""
    qr = qrcode.QRCode(border=4, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").convert("RGB")
    modules = qr.modules_count + 2 * qr.border
    side = min(HEIGHT - 40, code.size[0] * 2) if module_px is None else round(modules * module_px)
    code = code.resize((side, side), Image.NEAREST)
    if damaged:
        draw = ImageDraw.Draw(code)
        unit = side / modules
        # Away from the finder patterns, which locate the code: a blot over 7 % of the symbol …
        blot = qr.modules_count * 0.3 * unit
        left, top = (qr.border + qr.modules_count * 0.5) * unit, (qr.border + qr.modules_count * 0.55) * unit
        draw.ellipse([left, top, left + blot, top + blot], fill=(150, 150, 150))
        # … and a crease, a thin light line right across the data.
        y = (qr.border + qr.modules_count * 0.45) * unit
        draw.line([(0, y), (side, y + unit * 2)], fill=(215, 215, 215), width=max(1, round(unit / 3)))
        code = code.filter(ImageFilter.GaussianBlur(radius=0.8))
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (128, 128, 128))
    canvas.paste(code, ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    frame = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + frame)
    return path


def write_qr_png(path: Path, text: str, **options) -> Path:
    """The first frame of write_qr_video as a PNG, to look at (or to read with another decoder)."""
    video = write_qr_video(path.with_suffix(".y4m"), text, frames=1, **options)
    raw = video.read_bytes()
    luma = raw[raw.index(b"FRAME\n") + 6 :][: WIDTH * HEIGHT]
    Image.frombytes("L", (WIDTH, HEIGHT), luma).save(path)
    return path
