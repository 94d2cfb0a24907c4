#!/usr/bin/env python3
"""Command agent for krill's tests: sleeps SECONDS, then replies
`slow: <text>`.

Usage: slow.py SECONDS
"""
import json
import sys
import time

req = json.load(sys.stdin)
time.sleep(float(sys.argv[1]))
print("slow: " + req["text"])
