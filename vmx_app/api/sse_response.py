"""A streaming response for the completion SSE streams, without Starlette's per-stream task group.

Under ASGI spec < 2.4 (uvicorn says 2.3) Starlette's StreamingResponse runs every stream inside an
anyio task group next to a disconnect listener: measurable on time-to-first-token. Here one plain
asyncio task waits for `http.disconnect` and cancels the stream only if the client leaves before the
end; the body iterator then runs its own cleanup (upstream closed, audit written as 499).
"""

from __future__ import annotations

import asyncio

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class SSEResponse(StreamingResponse):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.current_task()
        assert streaming is not None
        state = {"finished": False, "disconnected": False}

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            if not state["finished"]:  # uvicorn also reports a disconnect once the response is complete
                state["disconnected"] = True
                streaming.cancel()

        watcher = asyncio.get_running_loop().create_task(watch_disconnect())
        try:
            await self.stream_response(send)
        except asyncio.CancelledError:
            if not state["disconnected"]:
                raise
            streaming.uncancel()  # the client left: the stream is over, nothing to propagate
        finally:
            state["finished"] = True
            watcher.cancel()
        if self.background is not None:
            await self.background()
