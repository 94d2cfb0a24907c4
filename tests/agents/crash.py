#!/usr/bin/env python3
"""Command agent for krill's tests: exits with status 3 (after writing to
stdout and stderr) when the text is `crash`; otherwise replies `ok: <text>`."""
import json
import sys

req = json.load(sys.stdin)
if req["text"] == "crash":
    print("partial output that must not reach the chat")
    sys.stderr.write("boom: simulated crash\n")
    sys.exit(3)
print("ok: " + req["text"])
