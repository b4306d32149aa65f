"""The yardstick: a FastAPI endpoint that only checks Discord's signature and answers a constant.

The load benchmark serves it with uvicorn exactly as `timetrack serve` serves the real app
(same server, same loop and HTTP implementation), so the ratio of the two throughputs is
what timetrack's own work costs on top of receiving a signed interaction.

    DISCORD_PUBLIC_KEY=<hex> python -m uvicorn bench.bare_app:app --port 8001
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

VERIFY_KEY = VerifyKey(bytes.fromhex(os.environ["DISCORD_PUBLIC_KEY"]))
ANSWER = {"type": 4, "data": {"content": "ok", "flags": 64}}

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.post("/api/discord")
async def interactions(request: Request) -> JSONResponse:
    signature = request.headers.get("x-signature-ed25519", "")
    timestamp = request.headers.get("x-signature-timestamp", "")
    body = await request.body()
    try:
        VERIFY_KEY.verify(timestamp.encode() + body, bytes.fromhex(signature))
    except (BadSignatureError, ValueError):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    return JSONResponse(ANSWER)
