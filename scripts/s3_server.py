"""The S3 server that neuralake's tests and benchmarks run against.

It is moto's S3 server (moto[server] from PyPI) with three additions:

* Writes are atomic. moto checks `If-None-Match: *` and then writes, in two
  steps, on a thread per request; when a body is large enough to be spooled to
  a file (over 5 MiB) the GIL is released in between, and two concurrent
  conditional PUTs of one key can both get 200. A WSGI middleware reads the
  body of every PUT, POST and DELETE first and then runs the request inside
  one process-wide lock, so a conditional PUT (or a CompleteMultipartUpload)
  sees every earlier write and no other write can slip between its check and
  its write. Reads (GET, HEAD) are not serialised.
* Signatures are checked. Authentication is switched on, and one IAM user with
  a random access key is allowed everything, so a wrong secret gets
  403 SignatureDoesNotMatch and an unknown key gets 403 InvalidAccessKeyId.
* It is ready to use: it listens on 127.0.0.1 (port 0 picks a free port),
  creates the bucket, and only then writes `env` (shell `export` lines) and
  `port` into the state directory, so their presence means "ready".

    python scripts/s3_server.py --state-dir .cache/s3-server --bucket neuralake-test
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import secrets
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

# Authentication must be on before moto handles its first request.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"

from moto import settings  # noqa: E402
from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import s3_backends  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

settings.INITIAL_NO_AUTH_ACTION_COUNT = 0

WRITE_METHODS = frozenset({"PUT", "POST", "DELETE"})
USER_NAME = "neuralake-test"
ALLOW_ALL = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
)

StartResponse = Callable[..., Any]


class SerialWrites:
    """WSGI middleware: runs every PUT, POST and DELETE under one lock.

    The body is read before the lock is taken, so a slow upload does not hold
    up other writers; only moto's own check-and-write runs inside the lock. The
    response is fully materialised inside the lock as well, because moto may
    do work lazily while its iterable is consumed.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in WRITE_METHODS:
            return self.app(environ, start_response)

        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        if not environ.get("CONTENT_LENGTH"):
            # A chunked upload is now a plain body of known length.
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input_terminated"] = False

        chunks: list[bytes] = []
        started: list[tuple[Any, ...]] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            started.append((status, headers, exc_info))
            return chunks.append

        with self.lock:
            result = self.app(environ, capture)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

        status, headers, exc_info = started[0]
        start_response(status, headers, exc_info)
        return chunks


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        want = int(length)
        parts: list[bytes] = []
        got = 0
        while got < want:
            part = stream.read(min(want - got, 1 << 20))
            if not part:
                break
            parts.append(part)
            got += len(part)
        return b"".join(parts)
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def create_user() -> tuple[str, str]:
    """Creates the IAM user that may do everything; returns its key pair."""
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    iam.create_user(region_name="us-east-1", user_name=USER_NAME)
    iam.put_user_policy(USER_NAME, "allow-all", ALLOW_ALL)
    key = iam.create_access_key(USER_NAME)
    # A random secret per server, so a test can assert that it never leaks.
    key.secret_access_key = secrets.token_urlsafe(30)
    return key.access_key_id, key.secret_access_key


def write_atomically(path: Path, text: str) -> None:
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text)
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state-dir", required=True, help="where to write env and port")
    parser.add_argument("--bucket", action="append", default=[], help="bucket to create")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    access_key_id, secret_access_key = create_user()
    s3 = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for bucket in args.bucket:
        s3.create_bucket(bucket, args.region)

    app = SerialWrites(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    os.environ["MOTO_PORT"] = str(port)

    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    exports = {
        "AWS_ENDPOINT_URL": f"http://{args.host}:{port}",
        "AWS_ACCESS_KEY_ID": access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret_access_key,
        "AWS_REGION": args.region,
        "AWS_ALLOW_HTTP": "true",
    }
    if args.bucket:
        exports["NEURALAKE_TEST_BUCKET"] = args.bucket[0]
    env_text = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in exports.items())
    write_atomically(state / "port", f"{port}\n")
    write_atomically(state / "env", env_text)

    def stop(_signum: int, _frame: Any) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"s3_server: listening on http://{args.host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
