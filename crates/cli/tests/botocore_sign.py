"""Random requests signed by botocore (the AWS SDK for Python's signer, an oracle nobody here
wrote), printed as JSON for crates/cli/tests/verify_hosts.rs to verify: header signing (SigV4Auth,
S3SigV4Auth) and presigned URLs (SigV4QueryAuth), with and without session tokens.

usage: python botocore_sign.py COUNT SEED
"""

import base64
import datetime
import json
import random
import sys
from urllib.parse import quote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TIME = datetime.datetime(2026, 11, 30, 12, 0, 0)
UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"


def word(rng, low=1, high=12):
    return "".join(rng.choice(UNRESERVED) for _ in range(rng.randint(low, high)))


def path(rng):
    # Wire-form segments: unreserved characters and percent-escapes (what a client sends).
    segments = []
    for _ in range(rng.randint(0, 4)):
        seg = word(rng)
        if rng.random() < 0.3:
            seg += rng.choice(["%20", "%2F", "%3A", "%40", "%C3%A9"])
        segments.append(seg)
    return "/" + "/".join(segments)


def query(rng):
    pairs = []
    for _ in range(rng.randint(0, 3)):
        value = word(rng, 0, 8) + rng.choice(["", " x", "/y", "=z", "é"])
        pairs.append(quote(word(rng), safe="-_.~") + "=" + quote(value, safe="-_.~"))
    return "&".join(pairs)


def request(rng, index):
    s3 = rng.random() < 0.4
    service = "s3" if s3 else rng.choice(["service", "execute-api", "sts"])
    region = rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2"])
    host = f"bucket{index}.s3.{region}.amazonaws.com" if s3 else f"{service}.{region}.amazonaws.com"
    method = rng.choice(["GET", "POST", "PUT", "DELETE"])
    body = word(rng, 0, 64).encode() if method in ("POST", "PUT") else b""
    url = f"http://{host}{path(rng)}"
    q = query(rng)
    if q:
        url += "?" + q
    headers = {}
    for _ in range(rng.randint(0, 3)):
        headers[f"x-amz-meta-{word(rng, 1, 6).lower().strip('.~')}x"] = rng.choice(["a", " spaced  out ", "v" * 30, "x=y;z"])
    token = word(rng, 20, 40) if rng.random() < 0.3 else None
    credentials = Credentials(f"AKID{index}", f"secret/{word(rng, 20, 30)}", token)
    presign = rng.random() < 0.3
    if presign:
        # botocore's query signer reads a body as the parameters of a form or JSON document.
        body = b""
    aws_request = AWSRequest(method=method, url=url, headers=headers, data=body)
    if presign:
        signer = (botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth)(
            credentials, service, region, expires=rng.randint(1, 604800)
        )
    else:
        signer = (botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth)(credentials, service, region)
    signer.add_auth(aws_request)
    prepared = aws_request.prepare()
    target = prepared.url.split(host, 1)[1] or "/"
    head = f"{method} {target} HTTP/1.1\nHost:{host}\n"
    for name, value in prepared.headers.items():
        head += f"{name}:{value}\n"
    raw = head.encode() + b"\n" + (prepared.body or b"")
    return {
        "raw_b64": base64.b64encode(raw).decode(),
        "access_key_id": credentials.access_key,
        "secret": credentials.secret_key,
        "time": int(TIME.replace(tzinfo=datetime.timezone.utc).timestamp()),
        "presigned": presign,
        "service": service,
    }


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    botocore.auth.get_current_datetime = lambda: TIME
    rng = random.Random(seed)
    print(json.dumps([request(rng, i) for i in range(count)]))


if __name__ == "__main__":
    main()
