"""Screenshots of pages at phone width, for looking at what we build.

Usage: .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:8000] [--phone 13900000006] PATH...
Signs in with the demo password when --phone is given; writes PNGs to test-results/screenshots/.
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--phone")
    parser.add_argument("--password", default="gongzhi2026")
    parser.add_argument("--width", type=int, default=390)
    parser.add_argument("--lang", default="zh-CN")
    parser.add_argument("--full", action="store_true", help="capture the full page")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    out = Path("test-results/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(
            viewport={"width": args.width, "height": 844}, locale=args.lang, device_scale_factor=1
        )
        if args.phone:
            page.goto(f"{args.base}/accounts/login/?method=password")
            page.fill("input[name=login]", args.phone)
            page.fill("input[name=password]", args.password)
            page.locator("form:has(input[name=password]) button[type=submit]").click()
            page.wait_for_load_state()
        for path in args.paths:
            page.goto(args.base + path)
            name = (path.strip("/").replace("/", "_") or "home") + f"-{args.width}.png"
            page.screenshot(path=str(out / name), full_page=args.full)
            print(out / name)
        browser.close()


if __name__ == "__main__":
    main()
