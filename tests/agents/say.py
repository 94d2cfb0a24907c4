#!/usr/bin/env python3
"""Command agent for krill's tests: reads the request and replies with a
fixed text.

Usage: say.py TEXT [EXTRA_LINES]
Replies TEXT, then EXTRA_LINES more lines `line 1`, `line 2`, ... (to make
a reply that is sent in several chunks).
"""
import json
import sys

json.load(sys.stdin)
lines = [sys.argv[1]]
extra = int(sys.argv[2]) if len(sys.argv) > 2 else 0
lines += ["line %d" % i for i in range(1, extra + 1)]
print("\n".join(lines))
