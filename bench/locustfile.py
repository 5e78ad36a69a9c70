"""One kind of request, sent as fast as the simulated users can (no think time): the load benchmark
(bench/load.py) runs locust once per endpoint with the request in ``BENCH_LOAD_TARGET`` (JSON:
method, path, headers, body), so that each endpoint's throughput and latency are measured alone."""

from __future__ import annotations

import json
import os
from typing import Any

from locust import FastHttpUser, constant, task

TARGET: dict[str, Any] = json.loads(os.environ.get("BENCH_LOAD_TARGET", "{}") or "{}")


class Caller(FastHttpUser):
    wait_time = constant(0)

    @task
    def call(self) -> None:
        method = TARGET.get("method", "GET")
        path = TARGET.get("path", "/healthz")
        headers = TARGET.get("headers", {})
        name = TARGET.get("name", path)
        if method == "POST":
            self.client.post(path, data=TARGET.get("body", ""), headers=headers, name=name)
        else:
            self.client.get(path, headers=headers, name=name)
