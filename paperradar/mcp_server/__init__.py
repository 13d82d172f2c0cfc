"""`paperradar mcp`: the archive for AI agents over the Model Context Protocol (the official `mcp` SDK).

Not named `mcp`, which would shadow the SDK. Importing this package loads nothing heavy: the SDK is imported
by `server.py` only, when the server is built.
"""
