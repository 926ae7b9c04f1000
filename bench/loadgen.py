"""Closed-loop HTTP load from a separate process: wrk when installed (Debian: apt-get install
wrk), otherwise an asyncio/aiohttp client started as `python bench/loadgen.py` (same output).

Each of `connections` keeps one request in flight on a keep-alive connection for `duration`
seconds; every request is the same pre-signed POST (Slack allows 300 s of clock skew, so one
signature per run is valid). A request that takes longer than Slack's 3 s is counted as over
the limit, not as a latency sample (wrk's --timeout), so p99/max are over answered requests;
`over_3s` counts the rest (wrk also counts, every 2 s, each connection still waiting).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LIMIT_S = 3.0

WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
%(headers)s
done = function(summary, latency, requests)
  local over = summary.errors.timeout
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"over": %%d, "non2xx": %%d, "errors": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, over, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write))
end
"""


@dataclass
class LoadResult:
    tool: str
    connections: int
    requests: int  # answered (wrk: including any that took over 3 s)
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    over_3s: int
    non2xx: int
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_load(
    url: str,
    body: str,
    headers: dict[str, str],
    connections: int,
    duration: float,
    *,
    tool: str = "auto",
) -> LoadResult:
    if tool == "wrk" or (tool == "auto" and have_wrk()):
        return _wrk(url, body, headers, connections, duration)
    return _python(url, body, headers, connections, duration)


def _wrk(url: str, body: str, headers: dict[str, str], connections: int,
         duration: float) -> LoadResult:
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"body": body, "headers": lines})
    try:
        out = subprocess.run(
            [shutil.which("wrk") or "wrk", "-t1", f"-c{connections}",
             f"-d{max(1, round(duration))}s", f"--timeout={LIMIT_S:g}s", "-s", script.name, url],
            capture_output=True, text=True, timeout=duration + 60, check=False,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith('{"requests"')), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    d = json.loads(line)
    return LoadResult("wrk", connections, d["requests"], d["duration_us"] / 1e6,
                      d["p50_us"] / 1000, d["p99_us"] / 1000, d["max_us"] / 1000, d["over"],
                      d["non2xx"], d["errors"])


def _python(url: str, body: str, headers: dict[str, str], connections: int,
            duration: float) -> LoadResult:
    spec = json.dumps({"url": url, "body": body, "headers": headers,
                       "connections": connections, "duration": duration})
    out = subprocess.run(
        [sys.executable, __file__], input=spec, capture_output=True, text=True,
        timeout=duration + 60, check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {out.stderr[-800:]}")
    return LoadResult(**json.loads(out.stdout))


async def _python_main(spec: dict[str, object]) -> LoadResult:
    import asyncio

    import aiohttp

    url, body = str(spec["url"]), str(spec["body"]).encode()
    headers = dict(spec["headers"])  # type: ignore[call-overload]
    connections, duration = int(spec["connections"]), float(spec["duration"])  # type: ignore[call-overload, arg-type]
    latencies: list[float] = []
    over = non2xx = errors = 0
    stop_at = time.monotonic() + duration
    timeout = aiohttp.ClientTimeout(total=LIMIT_S)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal over, non2xx, errors
        while time.monotonic() < stop_at:
            started = time.monotonic()
            try:
                async with session.post(url, data=body, headers=headers) as reply:
                    await reply.read()
                    if not 200 <= reply.status < 400:
                        non2xx += 1
                latencies.append(time.monotonic() - started)
            except TimeoutError:
                over += 1
            except aiohttp.ClientError:
                errors += 1
                await asyncio.sleep(0.01)

    connector = aiohttp.TCPConnector(limit=connections)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    seconds = time.monotonic() - started
    ordered = sorted(latencies) or [float("nan")]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    return LoadResult("python", connections, len(latencies), seconds, pct(50), pct(99),
                      ordered[-1] * 1000, over, non2xx, errors)


if __name__ == "__main__":
    import asyncio
    import dataclasses

    result = asyncio.run(_python_main(json.loads(sys.stdin.read())))
    print(json.dumps(dataclasses.asdict(result)))
