"""The Python peer of stagegate's poll-deployment, for the cold-start and memory comparison.

Same logic as crates/stagegate/src/handlers/poll.rs: read the watched deployment with
GetStageDeployment, classify it (IN_PROGRESS / SUCCEEDED / FAILED / TIMED_OUT), decide the next
step (wait / succeed / rollback / alert) by the policy, and compute the next wait with the same
backoff (10 s x 1.5 up to 60 s, +-20 % jitter from SHA-256 of the deployment id and attempt, never
past the deadline). Run it the way the Lambda Python runtime does:

    AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT python -m awslambdaric handler.poll

Like the Rust functions it reads its configuration and builds the SDK client once, at init.
"""

import datetime
import hashlib
import json
import math
import os
import sys

import boto3

INITIAL_WAIT_SECONDS = 10.0
GROWTH = 1.5
MAX_WAIT_SECONDS = 60
MIN_WAIT_SECONDS = 1
JITTER = 0.2


def _client():
    kwargs = {"region_name": os.environ.get("AWS_REGION", "us-east-1")}
    endpoint = (
        os.environ.get("AWS_ENDPOINT_URL_GAMESPARKS", "").strip()
        or os.environ.get("AWS_ENDPOINT_URL", "").strip()
    )
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    return boto3.client("gamesparks", **kwargs)


# Built once per cold start, as the Rust functions do in main().
GAMESPARKS = _client()


class GateError(Exception):
    pass


def _error(error_type):
    # awslambdaric reports type(e).__name__ as errorType: keep the Rust names.
    return type(error_type, (GateError,), {})


InvalidInput = _error("StageGate.InvalidInput")
NotFound = _error("StageGate.NotFound")
Retryable = _error("StageGate.Retryable")
ServiceError = _error("StageGate.ServiceError")


def _parse_time(value, field):
    if not isinstance(value, str):
        raise InvalidInput(f"field `{field}`: must be an RFC 3339 timestamp")
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise InvalidInput(f"field `{field}`: must be an RFC 3339 timestamp: {e}") from e


def _rfc3339(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unit_interval(key, attempt):
    digest = hashlib.sha256(key.encode() + attempt.to_bytes(4, "big")).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def next_wait(attempt, jitter_key, now, deadline):
    base = INITIAL_WAIT_SECONDS * GROWTH ** min(attempt, 64)
    factor = 1.0 - JITTER + 2.0 * JITTER * _unit_interval(jitter_key, attempt)
    wait = int(min(max(round(base * factor), MIN_WAIT_SECONDS), MAX_WAIT_SECONDS))
    remaining = math.ceil((deadline - now).total_seconds())
    if remaining < wait:
        return int(max(remaining, MIN_WAIT_SECONDS))
    return wait


def classify(details, deadline, now):
    state = details.get("DeploymentState") or "MISSING"
    result = details.get("DeploymentResult") or {}
    code = result.get("ResultCode")
    message = result.get("Message")
    if state == "COMPLETED" and code == "SUCCESS":
        return "SUCCEEDED", state, code, message
    if state == "COMPLETED":
        note = None if code else "GameSparks reported COMPLETED without a ResultCode"
        return "FAILED", state, code, message or note
    if state == "FAILED":
        note = None if code else "deployment FAILED and the DeploymentResult was missing"
        return "FAILED", state, code, message or note
    if now >= deadline:
        note = f"deployment still {state} at the deadline {_rfc3339(deadline)}"
        return "TIMED_OUT", state, code, note
    return "IN_PROGRESS", state, code, None


def decide(phase, outcome, code, policy, known_good):
    if outcome == "IN_PROGRESS":
        return "wait", "deployment not finished yet"
    if phase == "DEPLOY" and outcome == "SUCCEEDED":
        return "succeed", "the requested snapshot is deployed"
    if phase == "ROLLBACK" and outcome == "SUCCEEDED":
        return "alert", "the rollback completed; the requested snapshot is not deployed"
    if phase == "ROLLBACK":
        return "alert", f"the rollback itself ended {outcome}; a failed rollback is never retried"
    if outcome == "TIMED_OUT":
        rule = "onTimeout"
    elif code == "INVALID_ROLE_FAILURE":
        rule = "onInvalidRole"
    else:
        rule = "onUnspecifiedFailure"
    response = policy.get(rule, "alert" if rule == "onInvalidRole" else "rollback")
    if response == "alert":
        return "alert", f"policy {rule} is alert"
    if known_good:
        return "rollback", f"policy {rule} is rollback; last known-good snapshot is {known_good}"
    return "alert", (
        f"policy {rule} is rollback, but the stage has no known-good snapshot to roll back to"
    )


def _get_deployment(game, stage, deployment_id):
    try:
        out = GAMESPARKS.get_stage_deployment(
            GameName=game, StageName=stage, DeploymentId=deployment_id
        )
    except GAMESPARKS.exceptions.ResourceNotFoundException as e:
        raise NotFound(f"reading deployment {deployment_id} on {game}/{stage}: {e}") from e
    except (
        GAMESPARKS.exceptions.ThrottlingException,
        GAMESPARKS.exceptions.InternalServerException,
    ) as e:
        raise Retryable(f"reading deployment {deployment_id} on {game}/{stage}: {e}") from e
    except Exception as e:  # any other botocore error
        raise ServiceError(f"reading deployment {deployment_id} on {game}/{stage}: {e}") from e
    details = out.get("StageDeployment")
    if not details or not details.get("DeploymentId"):
        raise ServiceError("GetStageDeployment: the response has no StageDeployment")
    return details


def poll(event, context):
    if not isinstance(event, dict):
        raise InvalidInput("(input) must be the gate state object returned by start-deployment")
    try:
        game, stage = event["gameName"], event["stageName"]
        phase = event["phase"]
        policy = event.get("policy") or {}
    except KeyError as e:
        raise InvalidInput(f"field `{e.args[0]}`: missing") from e
    watched = event["rollback"] if phase == "ROLLBACK" else event
    if not isinstance(watched, dict) or not watched.get("deploymentId"):
        raise InvalidInput("field `deploymentId`: missing")
    deployment_id = watched["deploymentId"]
    deadline = _parse_time(watched.get("deadline"), "deadline")
    now = datetime.datetime.now(datetime.timezone.utc)

    details = _get_deployment(game, stage, deployment_id)
    outcome, state, code, message = classify(details, deadline, now)
    seen_at = now if outcome == "TIMED_OUT" else (details.get("LastUpdated") or now)

    watched["attempt"] = int(watched.get("attempt") or 0) + 1
    watched["deploymentState"] = state
    watched["outcome"] = outcome
    watched["resultCode"] = code
    watched["message"] = message
    if outcome != "IN_PROGRESS" and not watched.get("finishedAt"):
        watched["finishedAt"] = _rfc3339(seen_at)

    action, reason = decide(phase, outcome, code, policy, event.get("previousSnapshotId"))
    event["waitSeconds"] = (
        next_wait(watched["attempt"], deployment_id, now, deadline) if action == "wait" else 0
    )
    event["action"] = action
    event["reason"] = reason
    print(
        json.dumps(
            {
                "level": "INFO",
                "message": "deployment polled",
                "stage": f"{game}/{stage}",
                "deploymentId": deployment_id,
                "phase": phase,
                "deploymentState": state,
                "outcome": outcome,
                "resultCode": code or "none",
                "action": action,
                "waitSeconds": event["waitSeconds"],
            }
        ),
        file=sys.stdout,
    )
    return event
