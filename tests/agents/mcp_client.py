#!/usr/bin/env python3
"""MCP client for krill's tests, built on the official MCP Python SDK (`mcp`
on PyPI). It starts `$KRILL_BIN mcp` as its MCP server over stdio.

Usage:
  mcp_client.py turn REPORT   as a command agent: reads the turn request on
      stdin, lists the tools, calls discord_react and discord_sendMessage,
      writes REPORT (JSON: the request's tool names, the MCP tool names, both
      call results, the token and socket) and replies "mcp done".
  mcp_client.py call          outside a turn: calls discord_react with the
      KRILL_TURN_TOKEN / KRILL_SOCKET of the environment and prints
      {"isError": ..., "text": ...} (or {"initializeError": ...}).
"""
import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
try:  # the SDK renamed its error class in 2.x
    from mcp.shared.exceptions import MCPError as McpError
except ImportError:
    from mcp.shared.exceptions import McpError


def field(obj, snake, camel):
    """A result field: snake_case in SDK 2.x, camelCase in 1.x."""
    return getattr(obj, snake, None) if hasattr(obj, snake) else getattr(obj, camel, None)


def server():
    return StdioServerParameters(command=os.environ["KRILL_BIN"], args=["mcp"], env=dict(os.environ))


def result_json(result):
    text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    return {"isError": bool(field(result, "is_error", "isError")), "text": text}


async def turn(report_path):
    request = json.loads(sys.stdin.buffer.read())
    async with stdio_client(server()) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            listed = await session.list_tools()
            react = await session.call_tool("discord_react", {"emoji": "👍"})
            send = await session.call_tool("discord_sendMessage", {"content": "sent over mcp"})
            unknown = await session.call_tool("discord_kick", {"userId": "1"})
    report = {
        "protocolVersion": field(init, "protocol_version", "protocolVersion"),
        "requestTools": [t["name"] for t in request.get("tools", [])],
        "mcpTools": [t.name for t in listed.tools],
        "schemas": {t.name: field(t, "input_schema", "inputSchema") for t in listed.tools},
        "react": result_json(react),
        "send": result_json(send),
        "unknown": result_json(unknown),
        "token": os.environ.get("KRILL_TURN_TOKEN"),
        "socket": os.environ.get("KRILL_SOCKET"),
    }
    with open(report_path + ".tmp", "w") as f:
        json.dump(report, f)
    os.replace(report_path + ".tmp", report_path)
    print("mcp done")


async def call():
    async with stdio_client(server()) as (read, write):
        async with ClientSession(read, write) as session:
            try:
                await session.initialize()
            except McpError as e:
                print(json.dumps({"initializeError": str(e)}))
                return
            result = await session.call_tool("discord_react", {"emoji": "👍"})
    print(json.dumps(result_json(result)))


if __name__ == "__main__":
    if sys.argv[1] == "turn":
        asyncio.run(asyncio.wait_for(turn(sys.argv[2]), 60))
    else:
        asyncio.run(asyncio.wait_for(call(), 60))
