"""A scripted OpenAI-compatible chat server on a real loopback socket, for deterministic tests.

It speaks the same protocol as OpenAI / llama.cpp (``POST /v1/chat/completions``, JSON or
server-sent events) and replies from a queue of scripted behaviours: a text answer, an HTTP
error, a hang (for timeouts), a stream cut midway, an empty reply. Every request body is kept
so tests can inspect the prompt.

Example:
    >>> with ScriptedLLM() as server:                                     # doctest: +SKIP
    ...     server.script(Reply("DDIM 不需要重新训练 [1]。"))
    ...     openai.OpenAI(base_url=server.base_url, api_key="x").chat.completions.create(...)
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted behaviour.

    kind: ``text`` (answer ``text``), ``status`` (HTTP ``status`` error), ``hang`` (sleep
    ``delay`` seconds before answering), ``cut`` (stream half of ``text`` then drop the
    connection), ``empty`` (an answer with no content). ``top``: the first token's most likely
    tokens and their probabilities, returned as ``logprobs`` when a request asks for them.
    """

    text: str = ""
    kind: str = "text"
    status: int = 200
    delay: float = 0.0
    top: dict[str, float] | None = None
    cached: int | None = None  # prompt tokens reported as read from the server's prompt cache


class ScriptedLLM:
    """Start with ``with ScriptedLLM() as s:``; ``s.base_url`` is the OpenAI base URL."""

    def __init__(self) -> None:
        self.queue: list[Reply] = []
        self.default = Reply("资料中没有相关内容。")
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(
                        200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]}
                    )
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with outer._lock:
                    outer.requests.append(body)
                    outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                    reply = outer.queue.pop(0) if outer.queue else outer.default
                if reply.kind == "hang":
                    time.sleep(reply.delay)
                if reply.kind == "status":
                    self._json(
                        reply.status,
                        {"error": {"message": "scripted failure", "type": "server_error"}},
                    )
                    return
                text = "" if reply.kind == "empty" else reply.text
                if body.get("stream"):
                    self._stream(text, cut=reply.kind == "cut", cached=reply.cached)
                else:
                    self._json(200, _completion(text, body, reply.top, reply.cached))

            def _json(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, text: str, cut: bool, cached: int | None = None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
                if cut:
                    pieces = pieces[: max(1, len(pieces) // 2)]
                for piece in pieces:
                    self._event(_chunk(piece, None))
                if cut:
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._event(_chunk("", "stop"))
                self._event(
                    {
                        "id": "x",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "scripted",
                        "choices": [],
                        "usage": _usage(10, len(pieces), cached),
                    }
                )
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(
                    b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"
                )
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests (then the default reply)."""
        with self._lock:
            self.queue.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.queue.clear()
            self.requests.clear()
            self.headers.clear()

    def __enter__(self) -> ScriptedLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _completion(
    text: str, body: dict[str, Any], top: dict[str, float] | None = None, cached: int | None = None
) -> dict[str, Any]:
    logprobs = None
    if body.get("logprobs") and top:
        alternatives = [
            {"token": t, "logprob": math.log(p), "bytes": list(t.encode())} for t, p in top.items()
        ]
        first = dict(alternatives[0], top_logprobs=alternatives)
        logprobs = {"content": [first]}
    return {
        "id": "scripted-1",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": logprobs,
            }
        ],
        "usage": _usage(10, len(text), cached),
    }


def _chunk(piece: str, finish: str | None) -> dict[str, Any]:
    delta = {"content": piece} if piece else {}
    return {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _usage(prompt: int, completion: int, cached: int | None) -> dict[str, Any]:
    """Token counts as OpenAI and llama.cpp send them (cached prompt tokens when scripted)."""
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return usage
