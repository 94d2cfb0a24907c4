#!/usr/bin/env python3
"""Command agent for krill's tests: writes two lines to stderr (which krill
must log at debug level, never send) and replies `clean reply`."""
import json
import sys

req = json.load(sys.stdin)
sys.stderr.write("agent-stderr-line-1 for %s\n" % req["text"])
sys.stderr.write("agent-stderr-line-2\n")
sys.stderr.flush()
print("clean reply")
