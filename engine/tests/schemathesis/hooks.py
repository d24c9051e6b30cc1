"""Schemathesis hooks for engine/tests/openapi.rs: teach the generator the one rule of the API
that OpenAPI cannot state.

A binary batch (`application/octet-stream` on POST /api/v11/transactions) is whole 32-byte
records; OpenAPI can say "bytes" but not "a multiple of 32 bytes", so a positive (schema-valid)
body of any length would be sent and its 400 reported as a valid request rejected. Positive
binary bodies are cut down to whole records here (an empty one is an empty batch), so the
positive check still demands a 2xx for every well-formed batch.

A profile (GET/HEAD /debug/pprof/profile, when the server has --enable-profiling) answers after
`seconds` of sampling (10 when absent, up to 300): every case whose `seconds` is absent or valid
samples for 1 second instead, so a run stays within its time budget. An invalid `seconds` is
left alone: the server rejects it before it samples.
"""

import schemathesis
from schemathesis import GenerationMode

RECORD_SIZE = 32


def _raw(body):
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    data = getattr(body, "data", None)  # schemathesis' Binary wrapper
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(body, str):
        return body.encode()
    return None


def _valid_seconds(value):
    try:
        return 1 <= int(str(value)) <= 300
    except ValueError:
        return False


@schemathesis.hook
def map_case(context, case):
    if case.operation.path == "/debug/pprof/profile" and isinstance(case.query, dict):
        # Absent means the server's default of 10 s; an invalid value is what a negative case
        # tests (answered 400 before sampling), so only those two are left alone or replaced.
        if "seconds" not in case.query or _valid_seconds(case.query["seconds"]):
            case.query["seconds"] = 1
    meta = case.meta
    if (
        case.media_type == "application/octet-stream"
        and meta is not None
        and meta.generation.mode == GenerationMode.POSITIVE
    ):
        raw = _raw(case.body)
        if raw is not None:
            case.body = raw[: len(raw) // RECORD_SIZE * RECORD_SIZE]
    return case
