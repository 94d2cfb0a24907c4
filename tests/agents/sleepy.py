#!/usr/bin/env python3
"""Command agent for krill's tests: when the text is `sleep`, writes its pid
to PIDFILE and sleeps far past any test timeout; otherwise replies
`awake: <text>`.

Usage: sleepy.py PIDFILE
"""
import json
import os
import sys
import time

req = json.load(sys.stdin)
if req["text"] == "sleep":
    with open(sys.argv[1], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
    print("woke up too late")
    sys.exit(0)
print("awake: " + req["text"])
