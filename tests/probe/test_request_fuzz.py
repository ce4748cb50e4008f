"""Hypothesis: any -H, -b or -d text is a request or one InputError, never another exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from versectl.errors import InputError
from versectl.probe.request import build_request

TEXT = st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(
    ["Name: value", "a=1; b=2", '{"message": "hi"}', "X-Y:\r\nInjected: 1", "=", ":", "@"]
)


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT, TEXT)
def test_request_fuzz_values_build_or_fail_clearly(header: str, cookie: str, data: str) -> None:
    if data.startswith("@"):
        data = "@/nonexistent/" + data[1:].replace("/", "")  # no file is read by the fuzzer
    try:
        request = build_request("http://h/x", headers=[header], cookies=[cookie], data=data)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc).strip("\n")
        return
    for name, value in request.headers:
        assert not any(c in name + value for c in "\r\n\0")
