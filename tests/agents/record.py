#!/usr/bin/env python3
"""Command agent for krill's tests: keeps the exact stdin it got and echoes
fields of the JSON object back.

Usage: record.py DIR
Writes stdin, byte for byte, to DIR/request-<n>.json (n = 1, 2, ...), then
replies `session=<sessionKey> text=<text> history=<len(history)>`.
"""
import json
import os
import sys

out_dir = sys.argv[1]
raw = sys.stdin.buffer.read()
os.makedirs(out_dir, exist_ok=True)
n = 1
while True:
    path = os.path.join(out_dir, "request-%d.json" % n)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        break
    except FileExistsError:
        n += 1
with os.fdopen(fd, "wb") as f:
    f.write(raw)
req = json.loads(raw)
print("session=%s text=%s history=%d" % (req["sessionKey"], req["text"], len(req["history"])))
