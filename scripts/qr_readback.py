#!/usr/bin/env python3
"""Read QR images back with two independent decoders (ZXing-C++ and zbar) and print one JSON
object: {"<png path>": {"zxing-cpp": [texts...], "zbar": [texts...]}, ...}.
Used by tests/codes.rs to check that the codes we issue read back to the identical text.
Usage: qr_readback.py PNG [PNG...]   (needs: pip install zxing-cpp pyzbar pillow numpy; apt libzbar0)"""
import json
import sys

import numpy as np
import zxingcpp
from PIL import Image
from pyzbar import pyzbar


def main():
    out = {}
    for path in sys.argv[1:]:
        img = Image.open(path).convert("L")
        gray = np.array(img)
        zx = [r.text for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)]
        zb = [
            r.data.decode("utf-8", "replace")
            for r in pyzbar.decode(img, symbols=[pyzbar.ZBarSymbol.QRCODE])
        ]
        out[path] = {"zxing-cpp": zx, "zbar": zb}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
