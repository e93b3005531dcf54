#!/usr/bin/env python3
"""Smoke test of the real workflow definition on the local AWS (moto 5.2.5), without Rust.

    .venv/bin/python infra/local/smoke_test.py [--time-scale 60] [-v]

Starts infra/local/local_aws.py (a subprocess on a free port) and a fake Lambda endpoint in this
process that behaves like `cargo lambda watch` (bare function names only; handler errors as HTTP
500 {"errorType","errorMessage"}) and mimics the four functions' contracts with canned state
transitions. Creates an SNS topic (with an SQS queue subscribed) and the state machine from
infra/statemachine/deployment-gate.asl.json with the DefinitionSubstitutions replaced by fake
function ARNs, runs one execution per scenario (answering the approval scenarios' task tokens with
SendTaskSuccess or SendTaskFailure, as `stagegate approve` or a console would), and checks each
execution's status, error/cause, output, the states it entered (get_execution_history), the
Lambda calls, and the SNS messages.
Ends with `N passed, N failed`; exits 1 if any scenario failed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "infra" / "statemachine" / "deployment-gate.asl.json"
LOCAL_AWS = ROOT / "infra" / "local" / "local_aws.py"
REGION, ACCOUNT = "us-east-1", "123456789012"
FUNCTIONS = {
    "StartDeploymentFunctionArn": "start-deployment",
    "PollDeploymentFunctionArn": "poll-deployment",
    "RollbackDeploymentFunctionArn": "rollback-deployment",
    "NotifyResultFunctionArn": "notify-result",
}
SNAPSHOT = "Snapshot_2026-11-20T09:30:00.000Z"
# The local Lambda's function timeout here (the template's 30 s would slow the tier down).
FUNCTION_TIMEOUT = 2
RUNNING = "running"  # a call's result until it returns
PREVIOUS = "Snapshot_2026-11-01T12:00:00.000Z"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class FunctionError(Exception):
    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


class RawReply(Exception):
    """Answer with this HTTP status and body (an endpoint failure, not a handler error)."""

    def __init__(self, status: int, body: bytes):
        super().__init__(status)
        self.status, self.body = status, body


# --------------------------------------------------------------------------- fake functions
# The scenario is the execution input's stageName; every state carries it along. A promotion wave
# (input `stages`, state `wave`) changes stageName from stage to stage, so it is scenario "wave".


class FakeFunctions:
    def __init__(self, sns, topic_arn: str):
        self.sns, self.topic_arn = sns, topic_arn
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str, dict | None, str]] = []  # (function, scenario, event, result)
        self.counts: dict[tuple[str, str], int] = {}

    def count(self, scenario: str, function: str) -> int:
        with self.lock:
            self.counts[(scenario, function)] = self.counts.get((scenario, function), 0) + 1
            return self.counts[(scenario, function)]

    def invoke(self, function: str, event: dict) -> dict:
        handler = getattr(self, function.replace("-", "_"))
        scenario = _scenario(event)
        # Recorded on arrival, in arrival order: a call that runs past the function timeout
        # finishes after its retry did, and the execution may end before it returns.
        index = self._record(function, scenario, event, RUNNING)
        try:
            result = handler(event, scenario, self.count(scenario, function))
        except FunctionError as err:
            self._finish(index, err.error_type)
            raise
        except RawReply as raw:
            self._finish(index, f"HTTP {raw.status}")
            raise
        self._finish(index, "ok")
        return result

    def _record(self, function: str, scenario: str, event: dict, result: str) -> int:
        with self.lock:
            self.calls.append((function, scenario, event, result))
            return len(self.calls) - 1

    def _finish(self, index: int, result: str) -> None:
        with self.lock:
            function, scenario, event, _ = self.calls[index]
            self.calls[index] = (function, scenario, event, result)

    def settled(self, scenario: str, deadline: float) -> None:
        """Waits until no call of the scenario is still running (the execution may have ended
        while one that Lambda had already timed out was still sleeping)."""
        while any(r == RUNNING for _, _, r in self.calls_of(scenario)) and time.monotonic() < deadline:
            time.sleep(0.05)

    def calls_of(self, scenario: str, function: str | None = None) -> list[tuple[str, dict, str]]:
        with self.lock:
            return [(f, e, r) for f, s, e, r in self.calls if s == scenario and (function is None or f == function)]

    # start-deployment: {"input": <execution input>, "execution": $$.Execution}, or from the
    # Advance state {"advance": <gate state>} (the next stage of a promotion wave).
    def start_deployment(self, event: dict, scenario: str, n: int) -> dict:
        if "advance" in event:
            return self._advance(event)
        if "approved" in event:
            return self._answered(event, scenario)
        assert set(event) == {"input", "execution"}, f"start-deployment event keys: {sorted(event)}"
        execution = event["execution"]
        # Only what the functions read: the execution's Input again would double the payload
        # toward Step Functions' 256 KiB.
        assert set(execution) == {"Id", "Name", "StartTime"}, f"execution keys: {sorted(execution)}"
        # The Rust input parser reads StartTime as RFC 3339.
        datetime.fromisoformat(execution["StartTime"].replace("Z", "+00:00"))
        inp = event["input"]
        if scenario in ("invalid-input", "error-notification-lost"):
            raise FunctionError(
                "StageGate.InvalidInput",
                "invalid input: field `input.policy.onTimeout`: unknown variant `retry`, expected `alert` or `rollback`",
            )
        now = datetime.now(timezone.utc)
        state = {
            "gameName": inp["gameName"],
            "stageName": inp.get("stageName"),
            "executionId": execution["Id"],
            "executionStartedAt": execution["StartTime"],
            "requestedSnapshotId": inp["snapshotId"],
            "snapshotId": SNAPSHOT,
            "previousSnapshotId": PREVIOUS,
            "policy": {"onInvalidRole": "alert", "onUnspecifiedFailure": "rollback", "onTimeout": "rollback",
                       "timeoutSeconds": 1800},
            "deploymentId": "dep-0123456789abcdef",
            "startedAt": _iso(now),
            "deadline": _iso(now + timedelta(seconds=1800)),
            "attempt": 0,
            "deploymentState": "PENDING",
            "outcome": "IN_PROGRESS",
            "resultCode": None,
            "message": None,
            "finishedAt": None,
            "rollback": None,
            "phase": "DEPLOY",
            "action": "wait",
            "reason": "deployment started",
            "waitSeconds": 30,
        }
        if scenario == "unknown-action":
            state["action"] = "celebrate"
        if scenario == "no-action":
            del state["action"]
        if scenario in APPROVALS:
            # Asks before deploying anything: no deployment yet, the wait's timeout is the
            # approval's (long enough that only the harness's answer ends it).
            state.update(action="approve", waitSeconds=0, deploymentId=None, deploymentState=None,
                         reason="approval required before deploying", approval={
                             "stageName": inp["stageName"], "timeoutSeconds": 3600, "waitSeconds": 3600,
                             "requestedAt": _iso(now),
                             "expiresAt": _iso(now + timedelta(seconds=3600)), "servingSnapshotId": PREVIOUS,
                             "answer": None})
        if scenario in ("wave", "advance-denied"):
            stages = inp["stages"]
            state.update(stageName=stages[0], wave={"index": 0, "stages": [{"stageName": s} for s in stages]})
        return state

    def _advance(self, event: dict) -> dict:
        assert set(event) == {"advance"}, f"start-deployment (advance) event keys: {sorted(event)}"
        state = event["advance"]
        if _scenario(event) == "advance-denied":
            raise FunctionError("StageGate.AccessDenied", "StartStageDeployment: AccessDeniedException on prod")
        assert state["action"] == "advance" and state["outcome"] == "SUCCEEDED", state
        wave = state["wave"]
        passed = dict(wave["stages"][wave["index"]], passed={"deploymentId": state["deploymentId"]})
        index = wave["index"] + 1
        stages = wave["stages"][:index - 1] + [passed] + wave["stages"][index:]
        now = datetime.now(timezone.utc)
        return dict(state, stageName=stages[index]["stageName"], wave={"index": index, "stages": stages},
                    deploymentId=f"dep-{index:016x}", startedAt=_iso(now),
                    deadline=_iso(now + timedelta(seconds=1800)), attempt=0, deploymentState="PENDING",
                    outcome="IN_PROGRESS", resultCode=None, finishedAt=None, phase="DEPLOY", action="wait",
                    waitSeconds=30, reason=f"deployment started on {stages[index]['stageName']}")

    # start-deployment from the Answered state: {"approved": <gate state + approvalAnswer>}.
    def _answered(self, event: dict, scenario: str) -> dict:
        assert set(event) == {"approved"}, f"start-deployment (approved) event keys: {sorted(event)}"
        state = event["approved"]
        assert state["action"] == "approve" and "error" not in state, state
        answer = state["approvalAnswer"]
        assert answer["decision"] == "APPROVE" and answer["by"] == APPROVER, answer
        if scenario == "answered-denied":
            raise FunctionError("StageGate.AccessDenied", "StartStageDeployment: AccessDeniedException after approval")
        now = datetime.now(timezone.utc)
        approval = dict(state["approval"], answer=answer)
        rest = {k: v for k, v in state.items() if k != "approvalAnswer"}
        return dict(rest, approval=approval, deploymentId="dep-0123456789abcdef", startedAt=_iso(now),
                    deadline=_iso(now + timedelta(seconds=1800)), deploymentState="PENDING", action="wait",
                    waitSeconds=30, reason="approved; deployment started")

    # poll-deployment: the gate state in, the updated gate state out.
    def poll_deployment(self, state: dict, scenario: str, n: int) -> dict:
        assert state["action"] == "wait" and "notification" not in state and "error" not in state, state
        state = dict(state, attempt=state["attempt"] + 1)
        if scenario == "poll-denied":
            raise FunctionError("StageGate.AccessDenied", "GetStageDeployment: AccessDeniedException")
        if scenario == "retry":
            if n == 1:
                raise FunctionError("StageGate.Retryable", "GetStageDeployment: ThrottlingException: slow down")
            if n == 2:
                raise RawReply(503, b"upstream unavailable")  # -> Lambda.ServiceException
            # What Lambda reports when the function runs into its timeout or runs out of memory;
            # safe to retry (polls only read, starts replay their ClientToken).
            if n == 3:
                raise FunctionError("Sandbox.Timedout", "Task timed out after 30.00 seconds")
            if n == 4:
                raise FunctionError("Lambda.Unknown", "The cause could not be determined")
            # Runs past the function timeout: the local Lambda ends it as Sandbox.Timedout.
            if n == 5:
                time.sleep(FUNCTION_TIMEOUT + 1)
        if state["phase"] == "ROLLBACK":
            rollback = dict(state["rollback"], deploymentState="COMPLETED", outcome="SUCCEEDED",
                            resultCode="SUCCESS", finishedAt=_iso(datetime.now(timezone.utc)))
            return dict(state, rollback=rollback, action="alert", waitSeconds=0,
                        reason="the rollback completed; the requested snapshot is not deployed")
        if scenario in ("rollback", "rollback-denied"):
            return dict(state, deploymentState="FAILED", outcome="FAILED", resultCode="UNSPECIFIED_FAILURE",
                        message="The deployment failed: the snapshot's extension code raised an error",
                        action="rollback", waitSeconds=0,
                        reason=f"policy onUnspecifiedFailure is rollback; last known-good snapshot is {PREVIOUS}")
        if state["attempt"] == 1 and scenario != "retry":
            return dict(state, deploymentState="IN_PROGRESS", action="wait", waitSeconds=60,
                        reason="deployment in progress")
        wave = state.get("wave")
        if wave and wave["index"] + 1 < len(wave["stages"]):
            return dict(state, deploymentState="COMPLETED", outcome="SUCCEEDED", resultCode="SUCCESS",
                        action="advance", waitSeconds=0, finishedAt=_iso(datetime.now(timezone.utc)),
                        reason=f"{state['stageName']} passed; next stage {wave['stages'][wave['index'] + 1]['stageName']}")
        return dict(state, deploymentState="COMPLETED", outcome="SUCCEEDED", resultCode="SUCCESS",
                    action="succeed", waitSeconds=0, reason="the requested snapshot is deployed",
                    finishedAt=_iso(datetime.now(timezone.utc)))

    # rollback-deployment: the gate state (action rollback) in, phase ROLLBACK + wait out.
    def rollback_deployment(self, state: dict, scenario: str, n: int) -> dict:
        assert state["action"] == "rollback", state
        if scenario == "rollback-denied":
            raise FunctionError("StageGate.AccessDenied", "StartStageDeployment: AccessDeniedException")
        now = datetime.now(timezone.utc)
        rollback = {"deploymentId": "dep-fedcba9876543210", "snapshotId": PREVIOUS, "startedAt": _iso(now),
                    "deadline": _iso(now + timedelta(seconds=1800)), "attempt": 0, "deploymentState": "PENDING",
                    "outcome": "IN_PROGRESS", "resultCode": None, "message": None, "finishedAt": None,
                    "rollbackOf": state["deploymentId"]}
        return dict(state, phase="ROLLBACK", rollback=rollback, action="wait", waitSeconds=30,
                    reason=f"rolling back to {PREVIOUS}")

    # notify-result: {"state": <gate state or Catch output>, "execution": {Id, Name, StartTime}}
    def notify_result(self, event: dict, scenario: str, n: int) -> dict:
        if "approvalRequest" in event:
            return self._request_approval(event, scenario)
        assert set(event) == {"state", "execution"}, f"notify-result event keys: {sorted(event)}"
        state, execution = event["state"], event["execution"]
        assert set(execution) == {"Id", "Name", "StartTime"}, f"execution keys: {sorted(execution)}"
        if scenario in ("notification-lost", "error-notification-lost"):
            raise FunctionError("StageGate.NotificationFailed", "SNS Publish failed: KMSAccessDeniedException")
        error = state.get("error")
        if isinstance(error, dict):
            outcome = "BLOCKED" if error.get("Error") == "StageGate.DeploymentInProgress" else "ERROR"
            try:
                detail = json.loads(error.get("Cause") or "").get("errorMessage")
            except (ValueError, AttributeError):
                detail = error.get("Cause")
            summary = f"the gate failed: {error.get('Error')}: {detail}"
        elif state.get("phase") == "ROLLBACK":
            outcome = "ROLLED_BACK" if state["rollback"]["outcome"] == "SUCCEEDED" else "ROLLBACK_FAILED"
            summary = f"deployment {state['deploymentId']} failed ({state.get('message')}); {state['reason']}"
        elif state.get("action") == "succeed" and state.get("outcome") == "SUCCEEDED":
            outcome, summary = "SUCCEEDED", f"{state['snapshotId']} is deployed to {state['stageName']}"
        else:
            outcome, summary = "ERROR", f"asked to report a state in action {state.get('action')!r}"
        subject = f"stagegate {outcome}: {state.get('gameName')}/{state.get('stageName')}"
        message = json.dumps({"outcome": outcome, "summary": summary, "executionId": execution["Id"]})
        reply = self.sns.publish(
            TopicArn=self.topic_arn, Subject=subject, Message=message,
            MessageAttributes={"outcome": {"DataType": "String", "StringValue": outcome}},
        )
        return {"outcome": outcome, "succeeded": outcome == "SUCCEEDED", "error": f"StageGate.{outcome}",
                "cause": summary, "subject": subject, "messageId": reply["MessageId"]}

    # notify-result from AwaitApproval: {"approvalRequest": <gate state>, "taskToken", "execution"};
    # the harness answers the token once this call has returned.
    def _request_approval(self, event: dict, scenario: str) -> dict:
        assert set(event) == {"approvalRequest", "taskToken", "execution"}, f"approval request keys: {sorted(event)}"
        state, execution = event["approvalRequest"], event["execution"]
        assert state["action"] == "approve" and state["approval"]["answer"] is None, state
        assert event["taskToken"], event
        if scenario == "approval-request-lost":
            # Not retried by AwaitApproval (a publish that failed is not retried by asking again):
            # its catch-all must still end the run with a message.
            raise FunctionError("StageGate.NotificationFailed", "SNS Publish failed: KMSAccessDeniedException")
        outcome, summary = "AWAITING_APPROVAL", f"{state['snapshotId']} awaits approval on {state['stageName']}"
        subject = f"stagegate {outcome}: {state.get('gameName')}/{state.get('stageName')}"
        message = json.dumps({"outcome": outcome, "summary": summary, "executionId": execution["Id"]})
        reply = self.sns.publish(
            TopicArn=self.topic_arn, Subject=subject, Message=message,
            MessageAttributes={"outcome": {"DataType": "String", "StringValue": outcome}},
        )
        return {"outcome": outcome, "succeeded": False, "error": f"StageGate.{outcome}", "cause": summary,
                "subject": subject, "messageId": reply["MessageId"]}

    def answer_approvals(self, sfn, answered: set[str]) -> None:
        """Answers each approval scenario's wait once its request was published (the token is
        registered before the request is sent, so an answer after it returned is never early):
        SendTaskSuccess as `stagegate approve` sends it, or SendTaskFailure."""
        for name, answer in APPROVALS.items():
            if name in answered or answer is None:
                continue
            requests = [e for _, e, r in self.calls_of(name, "notify-result") if "approvalRequest" in e and r == "ok"]
            if not requests:
                continue
            token = requests[0]["taskToken"]
            if answer == "fail":
                sfn.send_task_failure(taskToken=token, error=APPROVAL_FAILURE, cause="withdrawn in the console")
            else:
                output = {"decision": answer, "by": APPROVER, "reason": "smoke", "at": _iso(datetime.now(timezone.utc))}
                sfn.send_task_success(taskToken=token, output=json.dumps(output))
            answered.add(name)


def _scenario(event: dict) -> str:
    # A wave changes stageName as it goes; the advance-denied wave is told by its game.
    for path in (("input", "gameName"), ("state", "gameName"), ("advance", "gameName"), ("gameName",)):
        value = event
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value == "advance-denied":
            return value
    for path in (("input", "stages"), ("wave",), ("state", "wave"), ("advance", "wave")):
        value = event
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value:
            return "wave"
    for path in (("input", "stageName"), ("state", "stageName"), ("state", "input", "stageName"),
                 ("approvalRequest", "stageName"), ("approved", "stageName"), ("stageName",)):
        value = event
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    return "?"


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def fake_lambda_server(functions: FakeFunctions) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urllib.parse.urlsplit(self.path).path.split("/")
            name = urllib.parse.unquote(parts[3]) if len(parts) == 5 else ""
            # Like cargo lambda watch: bare binary names only, 404 otherwise.
            if name not in FUNCTIONS.values():
                return self._send(404, b'{"message":"function not found"}')
            try:
                result = functions.invoke(name, json.loads(body))
                self._send(200, json.dumps(result).encode())
            except FunctionError as err:
                self._send(500, json.dumps({"errorType": err.error_type, "errorMessage": str(err)}).encode())
            except RawReply as raw:
                self._send(raw.status, raw.body)
            except Exception as err:  # an assertion in a fake: make it visible as a function error
                traceback.print_exc()
                self._send(500, json.dumps({"errorType": "SmokeTest.FakeRejected", "errorMessage": repr(err)}).encode())

        def _send(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the local Lambda already ended this invocation (function timeout)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --------------------------------------------------------------------------- scenarios
# The approval scenarios and how the harness answers each wait: a decision (SendTaskSuccess), "fail"
# (SendTaskFailure: someone failed the task in the console or with the CLI), or None (the request
# itself fails, so there is nothing to answer).
APPROVALS: dict[str, str | None] = {
    "approval": "APPROVE",
    "approval-failed": "fail",
    "approval-request-lost": None,
    "answered-denied": "APPROVE",
}
APPROVER = "arn:aws:sts::123456789012:assumed-role/release/smoke"
APPROVAL_FAILURE = "Operator.TaskFailed"

# name -> (expected status, expected Error, states entered in order, expected calls per function)
SCENARIOS: dict[str, tuple[str, str | None, list[str], dict[str, int]]] = {
    "happy": (
        "SUCCEEDED", None,
        ["Accept", "Start", "Route", "Wait", "Poll", "Route", "Wait", "Poll", "Route", "Notify", "Finish", "Succeeded"],
        {"start-deployment": 1, "poll-deployment": 2, "notify-result": 1},
    ),
    "rollback": (
        "FAILED", "StageGate.ROLLED_BACK",
        ["Accept", "Start", "Route", "Wait", "Poll", "Route", "Rollback", "Route", "Wait", "Poll", "Route", "Notify",
         "Finish", "Failed"],
        {"start-deployment": 1, "poll-deployment": 2, "rollback-deployment": 1, "notify-result": 1},
    ),
    "wave": (
        "SUCCEEDED", None,
        ["Accept", "Start", "Route", "Wait", "Poll", "Route", "Wait", "Poll", "Route", "Advance", "Route", "Wait",
         "Poll", "Route", "Wait", "Poll", "Route", "Notify", "Finish", "Succeeded"],
        {"start-deployment": 2, "poll-deployment": 4, "notify-result": 1},
    ),
    "retry": (
        "SUCCEEDED", None,
        ["Accept", "Start", "Route", "Wait", "Poll", "Route", "Notify", "Finish", "Succeeded"],
        {"start-deployment": 1, "poll-deployment": 6, "notify-result": 1},
    ),
    "invalid-input": (
        "FAILED", "StageGate.ERROR",
        ["Accept", "Start", "NotifyError", "Failed"],
        {"start-deployment": 1, "notify-result": 1},
    ),
    "unknown-action": (
        "FAILED", "StageGate.ERROR",
        ["Accept", "Start", "Route", "UnknownAction", "NotifyError", "Failed"],
        {"start-deployment": 1, "notify-result": 1},
    ),
    # Every task's Catch: a non-retryable error in any task still ends with one ERROR message.
    "poll-denied": (
        "FAILED", "StageGate.ERROR",
        ["Accept", "Start", "Route", "Wait", "Poll", "NotifyError", "Failed"],
        {"start-deployment": 1, "poll-deployment": 1, "notify-result": 1},
    ),
    "rollback-denied": (
        "FAILED", "StageGate.ERROR",
        ["Accept", "Start", "Route", "Wait", "Poll", "Route", "Rollback", "NotifyError", "Failed"],
        {"start-deployment": 1, "poll-deployment": 1, "rollback-deployment": 1, "notify-result": 1},
    ),
    "advance-denied": (
        "FAILED", "StageGate.ERROR",
        ["Accept", "Start", "Route", "Wait", "Poll", "Route", "Wait", "Poll", "Route", "Advance", "NotifyError",
         "Failed"],
        {"start-deployment": 2, "poll-deployment": 2, "notify-result": 1},
    ),
    # Route's first rule: a state without an action is reported, not routed by Default by luck.
    "no-action": (
        "FAILED", "StageGate.ERROR",
        ["Accept", "Start", "Route", "UnknownAction", "NotifyError", "Failed"],
        {"start-deployment": 1, "notify-result": 1},
    ),
    # The approval: asked, answered by SendTaskSuccess, then deployed as any run.
    "approval": (
        "SUCCEEDED", None,
        ["Accept", "Start", "Route", "AwaitApproval", "Answered", "Route", "Wait", "Poll", "Route", "Wait", "Poll",
         "Route", "Notify", "Finish", "Succeeded"],
        {"start-deployment": 2, "poll-deployment": 2, "notify-result": 2},
    ),
    # AwaitApproval's catch-all: the wait is failed (SendTaskFailure) and is not retried ...
    "approval-failed": (
        "FAILED", "StageGate.ERROR",
        ["Accept", "Start", "Route", "AwaitApproval", "NotifyError", "Failed"],
        {"start-deployment": 1, "notify-result": 2},
    ),
    # ... or its Lambda (publishing the request) fails with an error it does not retry.
    "approval-request-lost": (
        "FAILED", "StageGate.ERROR",
        ["Accept", "Start", "Route", "AwaitApproval", "NotifyError", "Failed"],
        {"start-deployment": 1, "notify-result": 2},
    ),
    # Answered's catch-all: approved, but starting the stage fails.
    "answered-denied": (
        "FAILED", "StageGate.ERROR",
        ["Accept", "Start", "Route", "AwaitApproval", "Answered", "NotifyError", "Failed"],
        {"start-deployment": 2, "notify-result": 2},
    ),
    # NotifyError's own Catch: the error report itself cannot be published.
    "error-notification-lost": (
        "FAILED", "StageGate.NotificationFailed",
        ["Accept", "Start", "NotifyError", "NotificationLost"],
        {"start-deployment": 1, "notify-result": 7},  # 1 + MaxAttempts 6
    ),
    "notification-lost": (
        "FAILED", "StageGate.NotificationFailed",
        ["Accept", "Start", "Route", "Wait", "Poll", "Route", "Wait", "Poll", "Route", "Notify", "NotificationLost"],
        {"start-deployment": 1, "poll-deployment": 2, "notify-result": 7},  # 1 + MaxAttempts 6
    ),
}


def check_scenario(name: str, sfn, functions: FakeFunctions, execution_arn: str, messages: list[dict],
                   timeout: float) -> str:
    want_status, want_error, want_states, want_calls = SCENARIOS[name]
    deadline = time.monotonic() + timeout
    while True:
        desc = sfn.describe_execution(executionArn=execution_arn)
        if desc["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert desc["status"] == want_status, (
        f"status {desc['status']} (want {want_status}); error {desc.get('error')!r} cause {desc.get('cause')!r}; "
        f"states {entered}")
    assert entered == want_states, f"states {entered}\n      want {want_states}"
    functions.settled(name, deadline)
    calls = {}
    for function, _event, _result in functions.calls_of(name):
        calls[function] = calls.get(function, 0) + 1
    assert calls == want_calls, f"lambda calls {calls} (want {want_calls})"
    notify_calls = functions.calls_of(name, "notify-result")
    mine = [m for m in messages if m["executionId"] == execution_arn]

    if name in APPROVALS:
        # One request (with the execution's token) per approval scenario, published once unless it
        # was the publication that failed; then the outcome (or the error) once.
        requests = [(e, r) for _, e, r in notify_calls if "approvalRequest" in e]
        want = "StageGate.NotificationFailed" if name == "approval-request-lost" else "ok"
        assert [r for _, r in requests] == [want], requests
        asked = [m for m in mine if m["outcome"] == "AWAITING_APPROVAL"]
        assert len(asked) == (0 if name == "approval-request-lost" else 1), mine
        mine = [m for m in mine if m["outcome"] != "AWAITING_APPROVAL"]
    if name in ("approval-failed", "approval-request-lost", "answered-denied"):
        state = notify_calls[-1][1]["state"]
        caught = {"approval-failed": APPROVAL_FAILURE, "approval-request-lost": "StageGate.NotificationFailed",
                  "answered-denied": "StageGate.AccessDenied"}[name]
        assert state["error"]["Error"] == caught, state
        # The Catch keeps the failing task's input: the report names the stage that waited.
        assert state["action"] == "approve" and state["approval"]["stageName"] == name, state
        if name == "answered-denied":
            assert state["approvalAnswer"]["decision"] == "APPROVE", state
        else:
            assert "approvalAnswer" not in state, state
        assert len(mine) == 1 and mine[0]["outcome"] == "ERROR", mine
        assert caught in desc["cause"], desc["cause"]
    if want_status == "SUCCEEDED":
        output = json.loads(desc["output"])
        n = output["notification"]
        assert n["outcome"] == "SUCCEEDED" and n["succeeded"] is True, n
        assert set(n) == {"outcome", "succeeded", "error", "cause", "subject", "messageId"}, sorted(n)
        want_deployment = "dep-0000000000000001" if name == "wave" else "dep-0123456789abcdef"
        assert output["action"] == "succeed" and output["deploymentId"] == want_deployment, output
        if name == "approval":
            assert output["approval"]["answer"]["decision"] == "APPROVE", output
        assert len(mine) == 1 and mine[0]["outcome"] == "SUCCEEDED", mine
    else:
        assert desc.get("error") == want_error, f"error {desc.get('error')!r} (want {want_error})"
    if name == "rollback":
        assert "deployment dep-0123456789abcdef failed" in desc["cause"], desc["cause"]
        assert len(mine) == 1 and mine[0]["outcome"] == "ROLLED_BACK", mine
        polled = [e for f, e, _ in functions.calls_of(name, "poll-deployment")]
        assert polled[-1]["phase"] == "ROLLBACK" and polled[-1]["rollback"]["rollbackOf"] == "dep-0123456789abcdef"
    if name in ("poll-denied", "rollback-denied", "advance-denied"):
        state = notify_calls[0][1]["state"]
        assert state["error"]["Error"] == "StageGate.AccessDenied", state
        assert json.loads(state["error"]["Cause"])["errorType"] == "StageGate.AccessDenied", state
        # The Catch keeps the failing task's input: the report says which deployment was watched.
        assert state["deploymentId"].startswith("dep-") and state["gameName"], state
        assert "AccessDeniedException" in desc["cause"], desc["cause"]
        assert len(mine) == 1 and mine[0]["outcome"] == "ERROR", mine
    if name == "no-action":
        state = notify_calls[0][1]["state"]
        assert state["error"]["Error"] == "StageGate.UnknownAction" and "action" not in state, state
        assert len(mine) == 1 and mine[0]["outcome"] == "ERROR", mine
    if name == "error-notification-lost":
        assert "could not be published" in desc["cause"], desc["cause"]
        assert all(e["state"]["error"]["Error"] == "StageGate.InvalidInput" for _, e, _ in notify_calls), notify_calls
        assert not mine, mine
    if name in ("invalid-input", "unknown-action"):
        state = notify_calls[0][1]["state"]
        assert set(state["error"]) == {"Error", "Cause"}, state
        if name == "invalid-input":
            # The Catch result is the failing task's input plus error; Cause is the Lambda error document.
            assert state["input"]["gameName"] == "space-raiders" and state["input"]["snapshotId"] == "latest", state
            assert state["error"]["Error"] == "StageGate.InvalidInput", state
            assert json.loads(state["error"]["Cause"])["errorType"] == "StageGate.InvalidInput", state
            assert "unknown variant `retry`" in desc["cause"], desc["cause"]
        else:
            assert state["error"]["Error"] == "StageGate.UnknownAction" and state["action"] == "celebrate", state
        assert len(mine) == 1 and mine[0]["outcome"] == "ERROR", mine
    if name == "retry":
        results = [r for f, _, r in functions.calls_of(name, "poll-deployment")]
        # The fake finished the 5th call late ("ok"), but Lambda had ended it at the timeout.
        assert results == ["StageGate.Retryable", "HTTP 503", "Sandbox.Timedout", "Lambda.Unknown", "ok", "ok"], results
        failed = [e["taskFailedEventDetails"]["error"] for e in events if "taskFailedEventDetails" in e]
        assert failed == ["StageGate.Retryable", "Lambda.ServiceException", "Sandbox.Timedout", "Lambda.Unknown",
                          "Sandbox.Timedout"], failed
    if name == "wave":
        # Advance hands start-deployment the whole gate state; the second stage is polled next.
        advanced = [e for _, e, _ in functions.calls_of(name, "start-deployment") if "advance" in e]
        assert len(advanced) == 1 and advanced[0]["advance"]["stageName"] == "dev", advanced
        assert advanced[0]["advance"]["deploymentId"] == "dep-0123456789abcdef", advanced
        polled = [(e["stageName"], e["deploymentId"]) for _, e, _ in functions.calls_of(name, "poll-deployment")]
        assert polled == [("dev", "dep-0123456789abcdef")] * 2 + [("prod", "dep-0000000000000001")] * 2, polled
        output = json.loads(desc["output"])
        assert output["stageName"] == "prod" and output["wave"]["stages"][0]["passed"], output
        assert len(mine) == 1 and mine[0]["outcome"] == "SUCCEEDED", mine
    if name == "notification-lost":
        assert "could not be published" in desc["cause"], desc["cause"]
        assert not mine, mine
    return f"{desc['status']}{' ' + desc['error'] if desc.get('error') else ''}; {len(entered)} states"


def check_nested_map(session, endpoint: str, cfg: Config) -> str:
    """A Distributed Map reading its items from S3 and running each as a child execution
    (`states:startExecution.sync:2`), as a fleet of gates will: every child runs under its own
    name, a failed child is caught into its item's result (not swallowed: moto 5.2.5 ends a Map
    whose iterations fail SUCCEEDED with nulls), and the others' outputs come back."""
    sfn = session.client("stepfunctions", endpoint_url=endpoint, config=cfg)
    s3 = session.client("s3", endpoint_url=endpoint, config=cfg)
    role = f"arn:aws:iam::{ACCOUNT}:role/stagegate-fleet"
    child = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "F"}],
              "Default": "S"},
        "F": {"Type": "Fail", "Error": "StageGate.FAILED", "Cause": "planted"},
        "S": {"Type": "Pass", "Parameters": {"outcome": "SUCCEEDED", "game.$": "$.game"}, "End": True}}}
    child_arn = sfn.create_state_machine(name="nested-gate", definition=json.dumps(child), roleArn=role)[
        "stateMachineArn"]
    gate = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": child_arn, "Input.$": "$", "Name.$": "$.game"},
            "ResultSelector": {"game.$": "$.Output.game", "status.$": "$.Status"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}], "End": True}
    caught = {"Type": "Pass", "Parameters": {"game.$": "$.game", "status": "FAILED", "error.$": "$.error.Error"},
              "End": True}
    parent = {"StartAt": "Fleet", "States": {"Fleet": {
        "Type": "Map", "MaxConcurrency": 3,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                       "Parameters": {"Bucket": "nested-fleet", "Key": "items.json"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Gate", "States": {"Gate": gate, "Caught": caught}},
        "End": True}}}
    s3.create_bucket(Bucket="nested-fleet")
    failing = {2, 5}
    items = [{"game": f"nested-{i}", "fail": i in failing} for i in range(8)]
    s3.put_object(Bucket="nested-fleet", Key="items.json", Body=json.dumps(items))
    parent_arn = sfn.create_state_machine(name="nested-fleet", definition=json.dumps(parent), roleArn=role)[
        "stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=parent_arn, input="{}")["executionArn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=execution)
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.2)
    assert desc["status"] == "SUCCEEDED", f"the fleet ended {desc['status']}: {desc.get('cause')}"
    results = json.loads(desc["output"])
    want = [{"game": f"nested-{i}", "status": "FAILED", "error": "States.TaskFailed"} if i in failing
            else {"game": f"nested-{i}", "status": "SUCCEEDED"} for i in range(8)]
    assert results == want, f"item results {results}"
    children = sfn.list_executions(stateMachineArn=child_arn)["executions"]
    names = sorted(c["name"] for c in children)
    assert names == sorted(i["game"] for i in items), f"children {names}"
    return f"{len(children)} child executions from an S3 item list, {len(failing)} failures caught"


def check_choice_guards(asl: dict) -> str:
    """On AWS a Choice rule that compares a path the state lacks fails the execution with
    States.Runtime (no Catch, no message); moto follows Default instead, so the `no-action`
    scenario cannot show it. Every compared path must be guarded by an earlier `Not IsPresent`
    rule."""
    checked = 0
    for name, state in asl["States"].items():
        if state["Type"] != "Choice":
            continue
        guarded: set[str] = set()
        for rule in state["Choices"]:
            inner = rule.get("Not", {})
            if inner.get("IsPresent") is True and "Variable" in inner:
                guarded.add(inner["Variable"])
                continue
            variable = rule.get("Variable")
            if variable is None or "IsPresent" in rule:
                continue
            # Finish compares `$.notification.succeeded`, which its Notify task always sets.
            if name == "Finish" and variable == "$.notification.succeeded":
                continue
            assert variable in guarded, f"Choice {name} compares {variable} with no IsPresent guard before it"
            checked += 1
    return f"{checked} comparisons guarded"


# --------------------------------------------------------------------------- harness


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_local_aws(lambda_url: str, time_scale: float, verbose: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(LOCAL_AWS), "--port", str(port), "--lambda-endpoint", lambda_url,
         "--time-scale", str(time_scale), "--function-timeout", str(FUNCTION_TIMEOUT)],
        stdout=subprocess.PIPE, stderr=None if verbose else subprocess.DEVNULL, text=True,
    )
    ready: list[str] = []
    reader = threading.Thread(target=lambda: ready.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=60)
    line = ready[0].strip() if ready else ""
    want = f"local-aws listening on http://127.0.0.1:{port} (lambda -> {lambda_url}, time scale {time_scale:g})"
    if line != want:
        proc.kill()
        raise SystemExit(f"local_aws.py did not become ready: {line!r} (exit {proc.poll()})")
    return proc, f"http://127.0.0.1:{port}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-scale", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per execution")
    parser.add_argument("-v", "--verbose", action="store_true", help="show local_aws.py's log")
    args = parser.parse_args()

    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    t0 = time.monotonic()
    passed = failed = 0
    functions: FakeFunctions | None = None
    lambda_server = None
    proc = None
    try:
        # The fake functions need the SNS client, which needs the local AWS, which needs the
        # fake endpoint's URL: bind the endpoint first and attach the functions afterwards.
        holder: dict[str, FakeFunctions] = {}

        class Late:
            def invoke(self, function: str, event: dict) -> dict:
                return holder["f"].invoke(function, event)

        lambda_server = fake_lambda_server(Late())  # type: ignore[arg-type]
        lambda_url = f"http://127.0.0.1:{lambda_server.server_address[1]}"
        proc, endpoint = start_local_aws(lambda_url, args.time_scale, args.verbose)
        print(f"local-aws up at {endpoint} after {time.monotonic() - t0:.1f} s; fake lambda at {lambda_url}")

        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
        cfg = Config(retries={"max_attempts": 2}, read_timeout=30)
        sfn = session.client("stepfunctions", endpoint_url=endpoint, config=cfg)
        sns = session.client("sns", endpoint_url=endpoint, config=cfg)
        sqs = session.client("sqs", endpoint_url=endpoint, config=cfg)

        topic_arn = sns.create_topic(Name="stagegate-outcomes")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="stagegate-outcomes")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        functions = FakeFunctions(sns, topic_arn)
        holder["f"] = functions

        try:
            print(f"ok   {'nested-map':<18} {check_nested_map(session, endpoint, cfg)}")
            passed += 1
        except AssertionError as err:
            print(f"FAIL {'nested-map':<18} {err}")
            failed += 1

        definition = ASL.read_text()
        try:
            print(f"ok   {'choice-guards':<18} {check_choice_guards(json.loads(definition))}")
            passed += 1
        except AssertionError as err:
            print(f"FAIL {'choice-guards':<18} {err}")
            failed += 1
        for key, name in FUNCTIONS.items():
            definition = definition.replace("${" + key + "}", function_arn(name))
        assert "${" not in definition, "a DefinitionSubstitutions placeholder is left"
        machine_arn = sfn.create_state_machine(
            name="stagegate-gate", definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/stagegate-workflow",
        )["stateMachineArn"]

        executions = {}
        for name in SCENARIOS:
            snapshot = "latest" if name == "invalid-input" else SNAPSHOT
            inp = {"gameName": "space-raiders", "stageName": name, "snapshotId": snapshot}
            if name in ("wave", "advance-denied"):
                del inp["stageName"]
                inp["stages"] = ["dev", "prod"]
            if name == "advance-denied":
                inp["gameName"] = name
            if name == "invalid-input":
                inp["policy"] = {"onTimeout": "retry"}
            executions[name] = sfn.start_execution(
                stateMachineArn=machine_arn, name=f"smoke-{name}", input=json.dumps(inp))["executionArn"]

        # Let every execution finish, then collect the SNS messages once.
        deadline = time.monotonic() + args.timeout
        answered: set[str] = set()
        while time.monotonic() < deadline:
            functions.answer_approvals(sfn, answered)
            running = [n for n, arn in executions.items()
                       if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"]
            if not running:
                break
            time.sleep(0.2)
        messages = []
        while True:
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            if not got.get("Messages"):
                break
            for m in got["Messages"]:
                messages.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

        for name, arn in executions.items():
            desc = sfn.describe_execution(executionArn=arn)
            took = (desc.get("stopDate", datetime.now(timezone.utc)) - desc["startDate"]).total_seconds()
            try:
                summary = check_scenario(name, sfn, functions, arn, messages, timeout=1)
                print(f"ok   {name:<18} {summary}; {took:.1f} s")
                passed += 1
            except AssertionError as err:
                print(f"FAIL {name:<18} {err}")
                failed += 1
        lost = ("notification-lost", "error-notification-lost")
        asked = sum(1 for n, a in APPROVALS.items() if a is not None)
        assert len(messages) == sum(1 for n in SCENARIOS if n not in lost) + asked, messages
    except Exception:  # noqa: BLE001 - harness failure: report and fail
        traceback.print_exc()
        failed += 1
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            if proc.returncode not in (0, -15):
                print(f"FAIL local_aws.py exited {proc.returncode} on SIGTERM")
                failed += 1
        if lambda_server is not None:
            lambda_server.shutdown()
    print(f"smoke test took {time.monotonic() - t0:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
