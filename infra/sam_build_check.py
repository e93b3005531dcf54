"""The `sam` tier: `sam build` as a user runs it, and what it built actually runs.

Why: the template's functions use SAM's `rust-cargolambda` build method. Nothing else in the suite
runs SAM CLI, so a renamed binary, a wrong CodeUri, a Handler SAM cannot resolve or a beta-feature
prompt would first show up on a user's machine. This builds the template with the real SAM CLI
(pinned in requirements-sam.txt, its own venv: its boto3 pins clash with checkov's) and then runs
each built `bootstrap` against a stand-in Lambda Runtime API, the way Lambda starts it.

What it may change, and why that still proves the point:
- The template asks for arm64 and this machine cannot install the arm64 standard library, so the
  build runs on a copy that differs only in `Architectures` (checked line by line), written next
  to the original so `CodeUri: ../` resolves as it does for users.
- Each function links with fat LTO in the release profile (889 s for four of them on 2 cores); cargo's
  environment overrides build the same binaries from the same sources unoptimized here. The build
  method, CodeUri, the binary names, the handler and the runtime contract do not depend on it.
- stdin is closed and SAM's beta switches are cleared from the environment: SAM CLI 1.170.0
  builds `rust-cargolambda` as a regular build method (it left beta in aws/aws-sam-cli#8526), so
  a user's plain `sam build` must not stop at a beta prompt, and none of SAM's other beta
  features may be needed.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"
COPY = ROOT / "infra" / ".template-x86_64.yaml"
TARGET = ROOT / "target" / "sam"
BUILD_DIR = ROOT / "target" / "sam-build"
SAM = ROOT / ".venv-sam" / "bin" / "sam"

# Unoptimized, unlinked-time-optimized, without debug info: what `cargo build --release` would
# build, minus the minutes of optimization (see the module doc).
FAST_PROFILE = {
    "CARGO_PROFILE_RELEASE_OPT_LEVEL": "0",
    "CARGO_PROFILE_RELEASE_LTO": "off",
    "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "256",
    "CARGO_PROFILE_RELEASE_DEBUG": "false",
    "CARGO_PROFILE_RELEASE_INCREMENTAL": "false",
}

# Each function gets one of the repository's sample events and must answer it as only that
# function would: the errorType and the words name the operation it reached for (nothing listens
# at the AWS endpoint), so a function built from another binary fails the check.
EXPECTED = {
    "StartDeploymentFunction": (
        "start-deployment", "start-deployment.invalid.json",
        "StageGate.InvalidInput", "input.policy.onTimeout",
    ),
    "PollDeploymentFunction": (
        "poll-deployment", "poll-deployment.json", "StageGate.Retryable", "GetStageDeployment",
    ),
    # The poll event's action is `wait`: only rollback-deployment refuses it for that.
    "RollbackDeploymentFunction": (
        "rollback-deployment", "poll-deployment.json",
        "StageGate.InvalidInput", 'must be \"rollback\"',
    ),
    "NotifyResultFunction": (
        "notify-result", "notify-result.succeeded.json", "StageGate.NotificationFailed", "Publish",
    ),
    # A function URL request without the IAM identity AuthType AWS_IAM adds: answered (not an
    # error), with the URL's 403.
    "AnswerApprovalFunction": (
        "answer-approval", "answer-approval.unsigned.json", None, "AWS_IAM",
    ),
    # The fleet's Plan step: every game checked against GameSparks' list before any starts.
    "FleetStepFunction": (
        "fleet-step", "fleet-step.plan.json", "StageGate.Retryable", "ListGames",
    ),
}

failures = []


def check(ok, what):
    print(f"  {'ok ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)
    return ok


def x86_64_copy():
    """The template with `Architectures: [arm64]` changed to x86_64, and nothing else."""
    original = TEMPLATE.read_text().splitlines(keepends=True)
    copied = [line.replace("Architectures: [arm64]", "Architectures: [x86_64]") for line in original]
    changed = [i + 1 for i, (a, b) in enumerate(zip(original, copied)) if a != b]
    check(len(changed) == 1, f"the x86_64 copy differs from the template in one line ({changed})")
    COPY.write_text("".join(copied))


def functions():
    """The template's rust-cargolambda functions: logical id -> (Binary, Handler)."""
    # The template uses CloudFormation's short tags; read only what is needed, line by line, so
    # this tier needs no YAML loader that knows them.
    lines = TEMPLATE.read_text().splitlines()
    found, current, handler = {}, None, None
    for line in lines:
        stripped = line.strip()
        if line.startswith("    Handler:"):
            handler = stripped.split(":", 1)[1].strip()
        if line.startswith("  ") and not line.startswith("   ") and stripped.endswith(":"):
            current = stripped[:-1]
        if stripped.startswith("Binary:") and current:
            found[current] = stripped.split(":", 1)[1].strip()
    return {name: (binary, handler) for name, binary in found.items()}


def sam_build():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAM_CLI_BETA")}
    env.update(FAST_PROFILE)
    env["CARGO_TARGET_DIR"] = str(TARGET)
    env["SAM_CLI_TELEMETRY"] = "0"
    # cargo-lambda and zig come from the project's .venv, as for the rest of the suite.
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    shutil.rmtree(BUILD_DIR, ignore_errors=True)
    started = time.monotonic()
    result = subprocess.run(
        [str(SAM), "build", "--template-file", str(COPY), "--build-dir", str(BUILD_DIR)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    ok = check(result.returncode == 0, f"sam build succeeded ({seconds:.0f} s)")
    if not ok:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
    check("Experimental features" not in result.stdout + result.stderr,
          "built without SAM's beta features, with no prompt")
    return ok


class RuntimeApi(BaseHTTPRequestHandler):
    """One invocation of Lambda's Runtime API: hands out `event`, records the answer."""

    event = b""
    answers = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != "/2018-06-01/runtime/invocation/next":
            self.send_error(404)
            return
        if self.answers:
            # Already answered: hold the next poll, as Lambda does between invocations.
            time.sleep(30)
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:stagegate-check",
        )
        self.send_header("Content-Length", str(len(self.event)))
        self.end_headers()
        self.wfile.write(self.event)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).answers.append((self.path, body.decode("utf-8", "replace")))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def invoke(bootstrap, event):
    """Runs `bootstrap` as Lambda would, hands it `event` and returns its first answer (path,
    body), or (None, its output) when it gave none within a minute."""
    RuntimeApi.event = event
    RuntimeApi.answers = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "stagegate-check",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # Nothing listens there: no function may reach AWS from this check.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:stagegate-check",
        # fleet-step's one required variable (the template sets it to the fleet bucket): without
        # it the bootstrap stops before it asks for an event.
        "FLEET_BUCKET": "stagegate-check-fleet",
    }
    process = subprocess.Popen([str(bootstrap)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not RuntimeApi.answers and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.kill()
    output = process.communicate()[0]
    server.shutdown()
    return (RuntimeApi.answers[0] if RuntimeApi.answers else (None, output[-2000:]))


def main():
    if not SAM.exists():
        print(f"{SAM} is missing: run `cargo xtask setup`")
        return 1
    declared = functions()
    check(set(declared) == set(EXPECTED), f"the template's cargo-lambda functions: {sorted(declared)}")
    x86_64_copy()
    if not sam_build():
        return 1
    for name, (binary, handler) in sorted(declared.items()):
        want_binary, event, want_type, want_words = EXPECTED.get(name, (None, None, None, None))
        check(binary == want_binary, f"{name}: BuildProperties.Binary is {binary}")
        check(handler == "bootstrap", f"{name}: Handler is {handler}")
        bootstrap = BUILD_DIR / name / "bootstrap"
        if not check(bootstrap.is_file() and os.access(bootstrap, os.X_OK),
                     f"{name}: {bootstrap.relative_to(ROOT)} is an executable"):
            continue
        with open(bootstrap, "rb") as f:
            head = f.read(20)
        # ELF, 64-bit, little endian; e_machine 0x3e is x86-64.
        check(head[:4] == b"\x7fELF" and head[4] == 2 and head[18:20] == b"\x3e\x00",
              f"{name}: bootstrap is an x86-64 ELF")
        if event is None:
            continue
        path, body = invoke(bootstrap, (ROOT / "events" / event).read_bytes())
        if want_type is None:
            check(path == "/2018-06-01/runtime/invocation/req-1/response",
                  f"{name}: answered events/{event} through the Runtime API"
                  + ("" if path else f" (it said: {body})"))
            try:
                reply = json.loads(body)
            except ValueError:
                reply = {}
            check(reply.get("statusCode") == 403 and want_words in str(reply.get("body", "")),
                  f"{name}: {str(reply)[:160]}")
            continue
        check(path == "/2018-06-01/runtime/invocation/req-1/error",
              f"{name}: answered events/{event} through the Runtime API"
              + ("" if path else f" (it said: {body})"))
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {}
        message = answer.get("errorMessage", "")
        check(answer.get("errorType") == want_type and want_words in message,
              f"{name}: {answer.get('errorType')}: {message[:160]}")
    if failures:
        print(f"\n{len(failures)} check(s) failed")
        return 1
    print("\nsam build: every function built, resolved and ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
