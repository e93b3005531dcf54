#!/usr/bin/env python3
"""A local AWS for stagegate's workflow tests and demo: moto 5.2.5 in server mode, with Step
Functions actually executing the state machine and its Lambda tasks sent to `cargo lambda watch`.

    .venv/bin/python infra/local/local_aws.py --port 5000 \
        --lambda-endpoint http://127.0.0.1:9000 [--time-scale 60] [--host 127.0.0.1]

What it adds to a plain `moto_server`:

* Step Functions executes ASL (moto's `execute_state_machine` user config; no env var exists).
* Lambda tasks (`arn:aws:states:::lambda:invoke` and direct function ARNs) go through a small
  in-process HTTP adapter to the Lambda endpoint: the function ARN in the invoke path becomes the
  bare binary name (cargo lambda knows no ARNs), and cargo lambda's HTTP 500
  `{"errorType","errorMessage"}` becomes real Lambda's 200 + `X-Amz-Function-Error: Unhandled`,
  so Retry/Catch match the Rust errorType names (a 500 would crash moto's engine instead).
* Wait states, Retry intervals and the state machine's TimeoutSeconds run `--time-scale` times
  faster (a 60 s Wait at scale 60 takes 1 s).
* A Distributed Map's ItemReader and `states:startExecution(.sync:2)` child executions work
  (`install_nested_executions`: three casing and serialization fixes, and MOTO_PORT set to the
  port moto serves on), for a fleet of gates (issue 28's spike).

Prints `local-aws listening on http://HOST:PORT (lambda -> ENDPOINT, time scale X)` on stdout
once ready (with `--port 0` the chosen port), logs one line per Lambda invocation on stderr, and
runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.config import Config

from moto.core.config import default_user_config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.program import program as program_module
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

LOG = logging.getLogger("local-aws")

# Headers of a Lambda Invoke request worth passing on to the function endpoint.
_FORWARDED_REQUEST_HEADERS = (
    "Content-Type",
    "X-Amz-Invocation-Type",
    "X-Amz-Log-Type",
    "X-Amz-Client-Context",
)


def function_name_from_path_segment(segment: str) -> str:
    """`arn:aws:lambda:us-east-1:123456789012:function:poll-deployment[:qualifier]`,
    `123456789012:function:poll-deployment` or `poll-deployment[:qualifier]` -> `poll-deployment`."""
    name = urllib.parse.unquote(segment)
    if "function:" in name:
        name = name.split("function:", 1)[1]
    return name.split(":", 1)[0]


def template_function_timeout() -> float:
    """`Globals: Function: Timeout:` of infra/template.yaml: the local stack gives the functions
    the time Lambda gives them, not more. Fails loudly when the template no longer says it."""
    template = Path(__file__).resolve().parents[1] / "template.yaml"
    section = None
    for line in template.read_text().splitlines():
        if line and not line.startswith(" "):
            section = line.rstrip(":")
        elif section == "Globals" and line.startswith("    Timeout:"):
            return float(line.split(":", 1)[1].strip())
    raise SystemExit(f"local-aws: no Globals.Function.Timeout in {template}")


class LambdaAdapter(ThreadingHTTPServer):
    """Real Lambda's Invoke API in front of `cargo lambda watch`."""

    daemon_threads = True

    def __init__(self, host: str, endpoint: str, timeout: float):
        super().__init__((host, 0), _LambdaAdapterHandler)
        parsed = urllib.parse.urlsplit(endpoint)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ValueError(f"--lambda-endpoint must be http://HOST[:PORT], got {endpoint!r}")
        self.upstream_host = parsed.hostname
        self.upstream_port = parsed.port or 80
        self.upstream_prefix = parsed.path.rstrip("/")
        self.upstream_timeout = timeout

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _LambdaAdapterHandler(BaseHTTPRequestHandler):
    server: LambdaAdapter
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # one line per invocation is logged in do_POST instead

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urllib.parse.urlsplit(self.path).path.split("/")
        # ['', '2015-03-31', 'functions', '<name or ARN>', 'invocations']
        if len(parts) != 5 or parts[2] != "functions" or parts[4] != "invocations":
            self._reply(404, request_id, _service_error("UnknownOperationException", f"unsupported path {self.path}"),
                        error_type="UnknownOperationException")
            return
        name = function_name_from_path_segment(parts[3])
        path = f"{self.server.upstream_prefix}/2015-03-31/functions/{urllib.parse.quote(name, safe='')}/invocations"
        headers = {h: self.headers[h] for h in _FORWARDED_REQUEST_HEADERS if self.headers.get(h)}
        try:
            conn = http.client.HTTPConnection(
                self.server.upstream_host, self.server.upstream_port, timeout=self.server.upstream_timeout
            )
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                status, payload = resp.status, resp.read()
                upstream_headers = {k.lower(): v for k, v in resp.getheaders()}
            finally:
                conn.close()
        except TimeoutError:
            # The function ran past the template's Timeout: Lambda ends it and reports
            # Sandbox.Timedout, as a function error (Step Functions' Retry sees that name).
            timeout = self.server.upstream_timeout
            doc = {"errorType": "Sandbox.Timedout",
                   "errorMessage": f"Task timed out after {timeout:.2f} seconds"}
            self._reply(200, request_id, json.dumps(doc).encode(), function_error="Unhandled")
            LOG.warning("lambda %s -> Sandbox.Timedout after %d ms", name, _ms(started))
            return
        except (OSError, http.client.HTTPException) as err:
            # Lambda's own service failing: Step Functions sees Lambda.ServiceException (retryable).
            message = f"lambda endpoint {self.server.upstream_host}:{self.server.upstream_port} failed: {err}"
            self._reply(500, request_id, _service_error("ServiceException", message), error_type="ServiceException")
            LOG.warning("lambda %s -> ServiceException (%s) %d ms", name, err, _ms(started))
            return

        request_id = upstream_headers.get("lambda-runtime-aws-request-id") or upstream_headers.get(
            "x-amzn-requestid") or request_id
        function_error = upstream_headers.get("x-amz-function-error")
        error_doc = _error_document(payload)
        if status >= 500 and error_doc is not None:
            # cargo lambda's handler-error reply -> real Lambda's function error.
            status, function_error = 200, function_error or "Unhandled"
        if status == 200:
            self._reply(200, request_id, payload, function_error=function_error)
            detail = f"{function_error} {error_doc.get('errorType')}" if function_error and error_doc else "ok"
            LOG.info("lambda %s -> 200 %s %d ms", name, detail, _ms(started))
        elif status == 404:
            message = f"Function not found: {urllib.parse.unquote(parts[3])}"
            self._reply(404, request_id, _service_error("ResourceNotFoundException", message, "User"),
                        error_type="ResourceNotFoundException")
            LOG.warning("lambda %s -> ResourceNotFoundException %d ms", name, _ms(started))
        else:
            text = payload.decode("utf-8", "replace")[:2000]
            message = f"lambda endpoint answered HTTP {status}: {text}"
            self._reply(500, request_id, _service_error("ServiceException", message), error_type="ServiceException")
            LOG.warning("lambda %s -> ServiceException (HTTP %d) %d ms", name, status, _ms(started))

    def _reply(self, status: int, request_id: str, body: bytes, *, function_error: str | None = None,
               error_type: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        # moto's engine reads ResponseMetadata.RequestId of every Lambda error reply.
        self.send_header("x-amzn-RequestId", request_id)
        if status == 200:
            self.send_header("X-Amz-Executed-Version", "$LATEST")
        if function_error:
            self.send_header("X-Amz-Function-Error", function_error)
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(body)


def _error_document(payload: bytes) -> dict | None:
    try:
        doc = json.loads(payload)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("errorType"), str) else None


def _service_error(code: str, message: str, kind: str = "Service") -> bytes:
    return json.dumps({"Type": kind, "Message": message, "message": message, "__type": code}).encode()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# ------------------------------------------------------------------------------------------ patches


def install_lambda_client(adapter_url: str, read_timeout: float) -> None:
    """Every Lambda task of moto's ASL engine invokes through the adapter."""
    client = boto3.session.Session().client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=adapter_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(
            parameter_validation=False,
            # Step Functions' Retry decides about retries, as with the real service.
            retries={"max_attempts": 0, "total_max_attempts": 1},
            connect_timeout=10,
            # cargo lambda watch compiles a function on its first invoke.
            read_timeout=read_timeout,
        ),
    )

    def boto_client_for(region: str, service: str, state_credentials: object = None):  # noqa: ARG001
        if service != "lambda":
            raise RuntimeError(f"local-aws: Step Functions tasks for {service!r} are not wired")
        return client

    lambda_eval_utils.boto_client_for = boto_client_for


def install_composite_alarms() -> None:
    """CloudWatch composite alarms as AWS has them: moto 5.2.5 keeps them (PutMetricAlarm with an
    AlarmRule) but has no PutCompositeAlarm, and its DescribeAlarms returns them whatever
    AlarmTypes says, where AWS lists only metric alarms unless asked for composites. A gate that
    forgot to ask would pass here and never see a composite alarm on AWS."""
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    # PutCompositeAlarm's parameters are a subset of what moto's PutMetricAlarm reads.
    CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm
    original = CloudWatchResponse.describe_alarms

    def describe_alarms(self):  # noqa: ANN001, ANN202 - moto's signature
        reply = original(self)
        types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]
        result = dict(reply.result)
        for kind, key in (("MetricAlarm", "MetricAlarms"), ("CompositeAlarm", "CompositeAlarms")):
            if kind not in types:
                result[key] = []
        return ActionResult(result)

    CloudWatchResponse.describe_alarms = describe_alarms


def install_time_scale(scale: float) -> None:
    """Wait states, Retry intervals and the execution's TimeoutSeconds run `scale` times faster."""

    def _wait_interval(self, env, wait_seconds: int) -> None:  # noqa: ARG001
        deadline = time.monotonic() + max(wait_seconds, 0) / scale
        while env.is_running():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # Pulsed on stop / time-out, so a stopped execution stops waiting.
            env.program_state_event.wait(remaining)

    wait_function.WaitFunction._wait_interval = _wait_interval

    class _ScaledTime:
        def __getattr__(self, name: str):
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            time.sleep(max(seconds, 0) / scale)

    retrier_decl.time = _ScaledTime()

    def program_eval(self, env) -> None:
        timeout = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
        env.next_state_name = self.start_at.start_at_name
        worker = threading.Thread(target=super(program_module.Program, self).eval, args=(env,), daemon=True)
        program_module.TMP_THREADS.append(worker)
        worker.start()
        worker.join(timeout=None if timeout is None else timeout / scale)
        if worker.is_alive():
            env.set_timed_out()

    program_module.Program.eval = program_eval


# ------------------------------------------------------------------------------------------ main


def install_nested_executions() -> None:
    """Makes moto's `states:startExecution(.sync/.sync:2)` integration work as on AWS (found in
    the issue 28 spike, moto 5.2.5): the request reaches botocore in the ASL's casing
    (`StateMachineArn`), which botocore's serializer does not know (KeyError); moto's server
    answers `executionArn` where the integration reads `ExecutionArn`; and the `.sync:2` result
    keeps `StartDate`/`StopDate` as datetimes, which the parent's DescribeExecution then fails to
    serialize (HTTP 500). Without a `Name`, moto names every child "None"; the fleet always names
    its children, so that is left as it is."""
    from datetime import datetime as _dt

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_task,
    )

    cls = sfn_task.StateTaskServiceSfn
    original_normalise = cls._normalise_parameters
    original_eval = cls._eval_service_task

    def lower_first(key: str) -> str:
        return key[:1].lower() + key[1:]

    def upper_first(key: str) -> str:
        return key[:1].upper() + key[1:]

    def plain(value):
        if isinstance(value, _dt):
            return value.isoformat()
        return value

    def api_casing(response: dict) -> dict:
        # Only the API's own members: a child's Input and Output are the caller's JSON.
        return {upper_first(k): plain(v) for k, v in response.items()}

    def normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        original_normalise(self, parameters, boto_service_name, service_action_name)
        for key in list(parameters):
            parameters[lower_first(key)] = parameters.pop(key)

    def eval_service_task(self, env, *args, **kwargs):
        original_eval(self, env, *args, **kwargs)
        env.stack.append(api_casing(env.stack.pop()))

    def normalise_response(self, response, boto_service_name=None, service_action_name=None):
        for key in list(response):
            response[upper_first(key)] = plain(response.pop(key))

    cls._normalise_parameters = normalise_parameters
    cls._eval_service_task = eval_service_task
    cls._normalise_response = normalise_response


def _condense_asl_failure(record: logging.LogRecord) -> bool:
    """moto logs every failure event (each caught task error, each Fail state) at ERROR with the
    repr of the whole state; keep one short line at INFO (the execution history has the rest)."""
    if record.args and isinstance(record.args, tuple) and str(record.args[0]).startswith("Exception="):
        record.msg, record.args = "asl: %s", (str(record.args[0])[:400],)
        record.levelno, record.levelname = logging.INFO, "INFO"
    return True


def _check_port_free(host: str, port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            raise SystemExit(f"local-aws: cannot listen on {host}:{port}: {err}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="port for the AWS endpoint (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--lambda-endpoint", required=True,
                        help="Lambda Invoke API of `cargo lambda watch`, e.g. http://127.0.0.1:9000")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="run Wait, Retry and execution timeouts this many times faster (default 1)")
    parser.add_argument("--function-timeout", type=float, default=None,
                        help="seconds a function may run before it is ended as Sandbox.Timedout "
                             "(default: the template's Globals.Function.Timeout)")
    parser.add_argument("--verbose", action="store_true", help="also log every AWS request moto serves")
    args = parser.parse_args(argv)
    if not args.time_scale > 0:
        parser.error("--time-scale must be > 0")

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="local-aws: %(message)s")
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        logging.getLogger("moto").setLevel(logging.WARNING)
        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").addFilter(_condense_asl_failure)

    _check_port_free(args.host, args.port)
    default_user_config["stepfunctions"] = {"execute_state_machine": True}

    # The functions run in real time (their SDK timeouts are real), so Lambda's limit is applied
    # unscaled; the caller warms each function first, so no build counts against it.
    function_timeout = args.function_timeout or template_function_timeout()
    adapter = LambdaAdapter("127.0.0.1", args.lambda_endpoint, function_timeout)
    threading.Thread(target=adapter.serve_forever, name="lambda-adapter", daemon=True).start()
    install_lambda_client(adapter.url, function_timeout + 10)
    install_time_scale(args.time_scale)
    install_composite_alarms()
    install_nested_executions()

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(timeout=30)
    if starter.is_alive() or server._server is None:
        print(f"local-aws: moto did not start on {args.host}:{args.port}", file=sys.stderr)
        return 1
    host, port = server.get_host_and_port()
    # moto's interpreter calls its own services (an ItemReader's S3 read, a child execution's
    # start) at http://localhost:$MOTO_PORT, 5000 unless told: tell it the port it serves on.
    os.environ["MOTO_PORT"] = str(port)

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        LOG.info("%s: shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    print(f"local-aws listening on http://{host}:{port} "
          f"(lambda -> {args.lambda_endpoint}, time scale {args.time_scale:g})", flush=True)
    while not stop.wait(3600):
        pass

    server.stop()
    adapter.shutdown()
    adapter.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
