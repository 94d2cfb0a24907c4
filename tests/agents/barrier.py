#!/usr/bin/env python3
"""Command agent for krill's concurrency tests.

Usage: barrier.py DIR [WAIT_SECONDS]
Appends `start <session> <text>` to DIR/log, and a marker file for its
session. When the text starts with `wait`, it then waits (up to
WAIT_SECONDS, default 20) until a turn of *another* session has started: it
only gets past that point when two sessions run at the same time. Appends `end <session> <text>` and
replies `<text>` (or `<text> alone` when no other session showed up).
"""
import json
import os
import re
import sys
import time

out_dir = sys.argv[1]
req = json.load(sys.stdin)
session, text = req["sessionKey"], req["text"]
wait_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
os.makedirs(out_dir, exist_ok=True)


def log(line):
    with open(os.path.join(out_dir, "log"), "a") as f:
        f.write(line + "\n")


mine = "started-" + re.sub(r"[^A-Za-z0-9]", "_", session)
log("start %s %s" % (session, text))
open(os.path.join(out_dir, mine), "w").close()

reply = text
if text.startswith("wait"):
    deadline = time.time() + wait_seconds
    while True:
        others = [n for n in os.listdir(out_dir) if n.startswith("started-") and n != mine]
        if others:
            break
        if time.time() > deadline:
            reply = text + " alone"
            break
        time.sleep(0.02)

log("end %s %s" % (session, text))
print(reply)
