"""probe-stream's engine: time every SSE event as it arrives, judge the stream, blame a hop.

record (what was seen) <- client (httpx, per-read timestamps; encoding, sse, failures)
runner (-n/-c, --login via session, --direct) -> analysis (timing, verdict, advice) -> attribution
"""
