"""Microseconds per signature verification (V3 SHA256, V3 SM3, V1 SHA1) against a bare HMAC of the same string."""

from __future__ import annotations

import base64
import hashlib
import hmac
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from opencams.rpc.auth import expected_string_to_sign, parse_timestamp
from opencams.rpc.request import RpcRequest, V1Auth, V3Auth, parse_credentials, parse_request, require_complete
from opencams.rpc.signature import payload_hash, signatures_equal, v1_signature, v3_signature

from ._common import base_parser, median, percent_encode, print_header, print_table, write_json

KEY_ID = "LTAI5tBenchmarkKey0000001"
SECRET = "bEnChMaRkSeCrEt0123456789abcd"
SPACE = "1234567890123456789"
TIMESTAMP = "2026-11-26T20:14:38Z"
NONCE = "c8121f64cc9ea4287e3240ab344b0185"
HOST_HEADER = "cams.ap-southeast-1.aliyuncs.com"
NEW_SDK_AGENT = "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2"
LEGACY_AGENT = "AlibabaCloud (Linux 6.1;x86_64) Python/3.11.7 Core/2.16.1 python-requests/2.18.3"
HASHES = {"ACS3-HMAC-SHA256": "sha256", "ACS3-HMAC-SM3": "sm3"}


@dataclass(frozen=True)
class RawRequest:
    """What the gateway hands to parse_request: method, path, raw query, headers, body."""

    name: str
    method: str
    path: str
    query: bytes
    headers: list[tuple[str, str]]
    body: bytes
    string_to_sign: str
    digest: str  # hash name the bare-HMAC baseline uses


def v3_request(algorithm: str) -> RawRequest:
    """A ChatappSyncPhoneNumber as alibabacloud-cams20200606 sends it (query parameters, empty body)."""
    digest = HASHES[algorithm]
    query = f"CustSpaceId={percent_encode(SPACE)}"
    headers = {
        "host": HOST_HEADER,
        "x-acs-version": "2020-06-06",
        "x-acs-action": "ChatappSyncPhoneNumber",
        "user-agent": NEW_SDK_AGENT,
        "x-acs-date": TIMESTAMP,
        "x-acs-signature-nonce": NONCE,
        "accept": "application/json",
        "x-acs-content-sha256": hashlib.new(digest, b"").hexdigest(),
        "x-acs-credentials-provider": "static_ak",
    }
    signed = sorted(headers)
    canonical = "\n".join(
        [
            "POST",
            "/",
            query,
            "".join(f"{name}:{headers[name].strip()}\n" for name in signed),
            ";".join(signed),
            headers["x-acs-content-sha256"],
        ]
    )
    to_sign = f"{algorithm}\n{hashlib.new(digest, canonical.encode()).hexdigest()}"
    signature = hmac.new(SECRET.encode(), to_sign.encode(), digest).hexdigest()
    authorization = f"{algorithm} Credential={KEY_ID},SignedHeaders={';'.join(signed)},Signature={signature}"
    wire = [
        ("Accept-Encoding", "identity"),
        *headers.items(),
        ("Authorization", authorization),
        ("Content-Length", "0"),
    ]
    return RawRequest(algorithm, "POST", "/", query.encode(), wire, b"", to_sign, digest)


def v1_request() -> RawRequest:
    """A ChatappSyncPhoneNumber as aliyun-python-sdk-core sends it (every parameter in the query)."""
    params = {
        "CustSpaceId": SPACE,
        "Version": "2020-06-06",
        "Action": "ChatappSyncPhoneNumber",
        "Format": "JSON",
        "RegionId": "ap-southeast-1",
        "Timestamp": TIMESTAMP,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureType": "",
        "SignatureVersion": "1.0",
        "SignatureNonce": NONCE,
        "AccessKeyId": KEY_ID,
    }
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"POST&%2F&{percent_encode(canonical)}"
    signature = base64.b64encode(hmac.new(f"{SECRET}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in [*params.items(), ("Signature", signature)])
    headers = [
        ("Host", HOST_HEADER),
        ("User-Agent", LEGACY_AGENT),
        ("Accept-Encoding", "identity"),
        ("Accept", "*/*"),
        ("Connection", "keep-alive"),
        ("x-acs-action", "ChatappSyncPhoneNumber"),
        ("x-acs-version", "2020-06-06"),
        ("x-sdk-invoke-type", "normal"),
        ("x-sdk-client", "python/2.0.0"),
        ("Content-Length", "0"),
    ]
    return RawRequest("HMAC-SHA1 (V1)", "POST", "/", query.encode(), headers, b"", to_sign, "sha1")


def _sign(auth: V3Auth | V1Auth, string_to_sign: str) -> str:
    if isinstance(auth, V3Auth):
        return v3_signature(auth.algorithm, SECRET, string_to_sign)
    return v1_signature(SECRET, string_to_sign)


def _parse(raw: RawRequest) -> RpcRequest:
    return parse_request(raw.method, raw.path, raw.query, raw.headers, raw.body)


def verify(raw: RawRequest) -> bool:
    """parse + string to sign + HMAC + constant-time compare (the path of rpc.auth.authenticate)."""
    req = _parse(raw)
    auth = parse_credentials(req)
    return signatures_equal(_sign(auth, expected_string_to_sign(req, auth)), auth.signature)


def verify_all_checks(raw: RawRequest) -> bool:
    """verify() plus the rest of authenticate's CPU work: payload hash, completeness, timestamp parse."""
    req = _parse(raw)
    auth = parse_credentials(req)
    ok = signatures_equal(_sign(auth, expected_string_to_sign(req, auth)), auth.signature)
    if isinstance(auth, V3Auth):
        ok = ok and signatures_equal(payload_hash(auth.algorithm, req.body), req.headers["x-acs-content-sha256"][0])
    require_complete(req, auth)
    parse_timestamp(auth.timestamp)
    return ok


def time_per_call(fn: Callable[[], object], repeats: int, budget: float) -> tuple[float, float]:
    """Median and minimum microseconds per call over `repeats` loops of about `budget` seconds each."""
    timer = timeit.Timer(fn)
    number, elapsed = timer.autorange()
    number = max(1, int(number * budget / max(elapsed, 1e-9)))
    runs = [t / number * 1e6 for t in timer.repeat(repeat=repeats, number=number)]
    return median(runs), min(runs)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__ or "")
    args = parser.parse_args(argv)
    repeats, budget = (3, 0.05) if args.quick else (9, 0.25)
    facts = print_header(
        "Signature verification (bench/signature.py)",
        "none (pure CPU)",
        {"Method": f"timeit, {repeats} repeats of ~{budget:g} s each, median (min) µs per call, one thread"},
    )
    if args.database_url:
        print("note: --database-url is ignored, this benchmark does no I/O\n")
    requests = [v3_request("ACS3-HMAC-SHA256"), v3_request("ACS3-HMAC-SM3"), v1_request()]
    rows = []
    stage_rows = []
    results = []
    for raw in requests:
        assert verify(raw) and verify_all_checks(raw), f"{raw.name}: the benchmark request does not verify"
        req = _parse(raw)
        auth = parse_credentials(req)
        assert expected_string_to_sign(req, auth) == raw.string_to_sign, f"{raw.name}: string to sign differs"
        key = SECRET.encode() if raw.digest != "sha1" else f"{SECRET}&".encode()
        message = raw.string_to_sign.encode()
        digest = raw.digest

        def baseline(key: bytes = key, message: bytes = message, digest: str = digest) -> str:
            return hmac.new(key, message, digest).hexdigest()

        def string_to_sign(req: RpcRequest = req, auth: V3Auth | V1Auth = auth) -> str:
            return expected_string_to_sign(req, auth)

        def signature(auth: V3Auth | V1Auth = auth, sts: str = raw.string_to_sign) -> str:
            return _sign(auth, sts)

        timed = {
            "verify": time_per_call(partial(verify, raw), repeats, budget),
            "verify_all": time_per_call(partial(verify_all_checks, raw), repeats, budget),
            "baseline": time_per_call(baseline, repeats, budget),
            "parse_request": time_per_call(partial(_parse, raw), repeats, budget),
            "parse_credentials": time_per_call(partial(parse_credentials, req), repeats, budget),
            "string_to_sign": time_per_call(string_to_sign, repeats, budget),
            "signature": time_per_call(signature, repeats, budget),
        }
        v, b = timed["verify"][0], timed["baseline"][0]
        rows.append(
            [
                raw.name,
                f"{v:.1f} ({timed['verify'][1]:.1f})",
                f"{timed['verify_all'][0]:.1f} ({timed['verify_all'][1]:.1f})",
                f"{b:.2f} ({timed['baseline'][1]:.2f})",
                f"{v / b:.1f}",
            ]
        )
        stage_rows.append(
            [
                raw.name,
                f"{timed['parse_request'][0]:.1f}",
                f"{timed['parse_credentials'][0]:.1f}",
                f"{timed['string_to_sign'][0]:.1f}",
                f"{timed['signature'][0]:.1f}",
            ]
        )
        results.append({"scheme": raw.name, **{k: {"median_us": m, "min_us": n} for k, (m, n) in timed.items()}})
    print("Per verification, µs: median (min) of the repeats")
    print()
    print_table(
        [
            "scheme",
            "verify: parse + string-to-sign + HMAC + compare",
            "+ payload hash, completeness, timestamp",
            "baseline: bare hmac.new().hexdigest()",
            "verify / baseline",
        ],
        rows,
    )
    print("Stages of verify, median µs")
    print()
    print_table(
        ["scheme", "parse_request", "parse_credentials", "expected_string_to_sign", "HMAC (+ base64)"], stage_rows
    )
    write_json(args.json, {"benchmark": "signature", "machine": facts, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
