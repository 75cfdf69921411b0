"""Drives AWS's durable-execution conformance suite against this project's Rust handlers.

For every requirement of the installed suite (PyPI ``aws-durable-execution-conformance-tests`` 1.0.0) this calls
the suite's own ``validate.validate_description`` unchanged. What it supplies is what the validator would
otherwise get from SAM and AWS:

- ``invoker``: the suite's ``sam.Invoker``, with a boto3 Lambda client pointed at the endpoint the functions run
  behind (the local target), and a CloudFormation view of the deployed stacks (:class:`LocalCloudFormation`);
- ``aws_clients``: that Lambda client, the same CloudFormation view, and a CloudWatch Logs view
  (:class:`LocalLogs`) that reads the local target's function log files, or boto3 Logs at the endpoint.

The requirement → stack / logical id / handler mapping, and the requirements the Rust SDK cannot express, come
from ``manifest.json`` beside this file, which ``cargo test -p conformance-app --test conformance`` keeps in step with the
stacks. Results are printed as one table per suite: passed, failed (with the first mismatch), not applicable
(with the reason). ``--baseline`` turns a requirement that passed before and fails now into a non-zero exit.

Run it through ``conformance/runner/run``, which creates the pinned virtualenv.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
DEFAULT_REGION = "us-east-1"


# region Manifest


@dataclass(frozen=True)
class Requirement:
    """One requirement as the stacks deploy it."""

    id: str
    suite: str
    stack: str
    logical_id: str
    handler: str
    not_applicable: str | None = None


def load_manifest(path: Path = MANIFEST) -> tuple[list[Requirement], list[dict[str, str]]]:
    """The requirements and the invoke targets the stacks deploy."""
    data = json.loads(path.read_text())
    requirements = [
        Requirement(
            id=r["requirement"],
            suite=r["suite"],
            stack=r["stack"],
            logical_id=r["logical_id"],
            handler=r["handler"],
            not_applicable=r.get("not_applicable"),
        )
        for r in data["requirements"]
    ]
    return requirements, data.get("targets", [])


def sort_key(requirement_id: str) -> tuple[int, int]:
    """Orders ``6-13`` after ``6-2``."""
    suite, _, number = requirement_id.partition("-")
    return int(suite), int(number)


# endregion


# region Deployed functions


def load_functions(paths: Iterable[Path], requirements: list[Requirement]) -> dict[str, dict[str, str]]:
    """Physical function names by stack and logical id.

    Each file holds either ``{"<stack>": {"<logical id>": "<function name>"}}``, a flat
    ``{"<logical id>": "<function name>"}`` (the stack is looked up in the manifest), or the local target's
    ``deployment.json`` (``{"stack": ..., "functions": {"<name>": {"logical_id": ...}}}``).
    """
    stack_of = {r.logical_id: r.stack for r in requirements}
    result: dict[str, dict[str, str]] = {}
    for path in paths:
        data = json.loads(Path(path).read_text())
        if isinstance(data.get("functions"), dict) and "stack" in data:
            for name, function in data["functions"].items():
                result.setdefault(data["stack"], {})[function["logical_id"]] = name
            continue
        for key, value in data.items():
            if isinstance(value, dict):
                result.setdefault(key, {}).update(value)
            else:
                result.setdefault(stack_of.get(key, ""), {})[key] = value
    return result


def client_error(operation: str, code: str, message: str) -> Exception:
    """The error a boto3 client raises for a service error, which the validator catches."""
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class LocalCloudFormation:
    """The two CloudFormation calls the validator makes, answered from the deployed functions.

    ``sam.Invoker`` pages ``list_stack_resources`` through ``get_paginator`` and maps each
    ``AWS::Lambda::Function`` summary's ``LogicalResourceId`` to its ``PhysicalResourceId``; the log check calls
    ``describe_stack_resource`` and reads ``StackResourceDetail.PhysicalResourceId``.
    """

    def __init__(self, functions: dict[str, dict[str, str]]) -> None:
        self._functions = functions

    def _stack(self, operation: str, stack_name: str) -> dict[str, str]:
        if stack_name not in self._functions:
            raise client_error(operation, "ValidationError", f"Stack with id {stack_name} does not exist")
        return self._functions[stack_name]

    def get_paginator(self, operation_name: str) -> "_Paginator":
        if operation_name != "list_stack_resources":
            raise NotImplementedError(f"the local CloudFormation view does not page {operation_name}")
        return _Paginator(self)

    def list_stack_resources(self, StackName: str, NextToken: str | None = None) -> dict[str, Any]:  # noqa: N803
        summaries = [
            {
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": name,
                "ResourceType": "AWS::Lambda::Function",
                "ResourceStatus": "CREATE_COMPLETE",
            }
            for logical_id, name in sorted(self._stack("ListStackResources", StackName).items())
        ]
        return {"StackResourceSummaries": summaries}

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:  # noqa: N803
        name = self._stack("DescribeStackResource", StackName).get(LogicalResourceId)
        if name is None:
            raise client_error(
                "DescribeStackResource",
                "ValidationError",
                f"Resource {LogicalResourceId} does not exist for stack {StackName}",
            )
        return {
            "StackResourceDetail": {
                "StackName": StackName,
                "LogicalResourceId": LogicalResourceId,
                "PhysicalResourceId": name,
                "ResourceType": "AWS::Lambda::Function",
                "ResourceStatus": "CREATE_COMPLETE",
            }
        }


class _Paginator:
    """``list_stack_resources`` in one page."""

    def __init__(self, cfn: LocalCloudFormation) -> None:
        self._cfn = cfn

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield self._cfn.list_stack_resources(**kwargs)


# endregion


# region Logs


def compile_filter(pattern: str | None) -> Callable[[str], bool]:
    """A CloudWatch Logs filter pattern as a predicate over one log line.

    Supports what the validator sends, a JSON pattern such as
    ``{ ($.durableExecutionArn = "arn") || ($.executionArn = "arn") }`` (``=`` and ``!=`` on top-level or
    dotted fields, ``&&``, ``||``, parentheses), and plain-text terms, all of which must occur in the line.
    """
    if not pattern or not pattern.strip():
        return lambda _line: True
    text = pattern.strip()
    if not text.startswith("{"):
        terms = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', text)
        words = [quoted or bare for quoted, bare in terms]
        return lambda line: all(word in line for word in words)
    tokens = re.findall(r'\(|\)|\|\||&&|!=|=|"(?:[^"\\]|\\.)*"|\$[\w.]+|-?\d+(?:\.\d+)?', text.strip("{} \t"))
    predicate, rest = _parse_or(tokens)
    if rest:
        raise ValueError(f"unsupported filter pattern {pattern!r}")

    def matches(line: str) -> bool:
        try:
            record = json.loads(line)
        except ValueError:
            return False
        return isinstance(record, dict) and predicate(record)

    return matches


Predicate = Callable[[dict[str, Any]], bool]


def _parse_or(tokens: list[str]) -> tuple[Predicate, list[str]]:
    left, tokens = _parse_and(tokens)
    while tokens and tokens[0] == "||":
        right, tokens = _parse_and(tokens[1:])
        left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
    return left, tokens


def _parse_and(tokens: list[str]) -> tuple[Predicate, list[str]]:
    left, tokens = _parse_term(tokens)
    while tokens and tokens[0] == "&&":
        right, tokens = _parse_term(tokens[1:])
        left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
    return left, tokens


def _parse_term(tokens: list[str]) -> tuple[Predicate, list[str]]:
    if tokens and tokens[0] == "(":
        inner, rest = _parse_or(tokens[1:])
        if not rest or rest[0] != ")":
            raise ValueError("unbalanced parentheses in filter pattern")
        return inner, rest[1:]
    if len(tokens) < 3 or not tokens[0].startswith("$.") or tokens[1] not in ("=", "!="):
        raise ValueError(f"unsupported filter pattern term {' '.join(tokens[:3])!r}")
    path, operator, raw = tokens[0][2:].split("."), tokens[1], tokens[2]
    expected: Any = json.loads(raw) if raw.startswith('"') else float(raw)

    def lookup(record: dict[str, Any]) -> Any:
        value: Any = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def compare(record: dict[str, Any]) -> bool:
        value = lookup(record)
        equal = value == expected if isinstance(expected, str) else _number(value) == expected
        return equal if operator == "=" else not equal

    return compare, tokens[3:]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _epoch_ms(value: Any) -> int | None:
    """A record's ``timestamp`` (RFC 3339 text or epoch milliseconds) as epoch milliseconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None


class LocalLogs:
    """``filter_log_events`` over the local target's function logs, one file per function.

    A function's group ``/aws/lambda/<name>`` is the file ``<logs dir>/<name>.log``; each line is one event. An
    event's time is its JSON record's ``timestamp`` (the conformance binary writes one on every line), or that of
    the line before it; a line with no known time is never excluded by the time window. ``ingestionTime`` is the
    line's position, so that events keep the file's order.
    """

    PREFIX = "/aws/lambda/"

    def __init__(self, logs_dir: Path) -> None:
        self._dir = Path(logs_dir)

    def filter_log_events(
        self,
        logGroupName: str,  # noqa: N803
        startTime: int | None = None,  # noqa: N803
        endTime: int | None = None,  # noqa: N803
        filterPattern: str | None = None,  # noqa: N803
        nextToken: str | None = None,  # noqa: N803, ARG002: one page
        **_: Any,
    ) -> dict[str, Any]:
        if not logGroupName.startswith(self.PREFIX):
            raise client_error("FilterLogEvents", "ResourceNotFoundException", f"{logGroupName} is not a function's group")
        path = self._dir / f"{logGroupName[len(self.PREFIX):]}.log"
        try:
            predicate = compile_filter(filterPattern)
        except ValueError as e:
            raise client_error("FilterLogEvents", "InvalidParameterException", str(e)) from e
        events: list[dict[str, Any]] = []
        last: int | None = None
        lines = path.read_text(errors="replace").splitlines() if path.is_file() else []
        for index, line in enumerate(lines):
            stamp = None
            if line.lstrip().startswith("{"):
                try:
                    record = json.loads(line)
                    stamp = _epoch_ms(record.get("timestamp")) if isinstance(record, dict) else None
                except ValueError:
                    stamp = None
            last = stamp if stamp is not None else last
            if last is not None and startTime is not None and last < startTime:
                continue
            if last is not None and endTime is not None and last > endTime:
                continue
            if predicate(line):
                events.append(
                    {
                        "logStreamName": "local",
                        "timestamp": last if last is not None else 0,
                        "message": line,
                        "ingestionTime": index,
                        "eventId": str(index),
                    }
                )
        return {"events": events, "searchedLogStreams": []}


# endregion


# region Running


@dataclass
class Outcome:
    """How one requirement went."""

    requirement: Requirement
    status: str  # passed | failed | optional-failed | not-applicable
    detail: str = ""
    errors: list[str] = field(default_factory=list)


def lambda_client(endpoint: str, region: str) -> Any:
    """A boto3 Lambda client at ``endpoint``; dummy credentials when none are configured (the local target does
    not check them, but boto3 signs every request)."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(region_name=region)
    credentials = {}
    if session.get_credentials() is None:
        credentials = {"aws_access_key_id": "conformance", "aws_secret_access_key": "conformance"}
    config = Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=900, connect_timeout=10)
    return session.client("lambda", endpoint_url=endpoint, config=config, **credentials)


def logs_client(args: argparse.Namespace, region: str) -> Any:
    """Function logs: the local target's files, or CloudWatch Logs at the endpoint."""
    if args.logs_from == "endpoint":
        import boto3

        session = boto3.Session(region_name=region)
        credentials = {}
        if session.get_credentials() is None:
            credentials = {"aws_access_key_id": "conformance", "aws_secret_access_key": "conformance"}
        return session.client("logs", endpoint_url=args.endpoint, **credentials)
    return LocalLogs(args.logs_dir)


def validate(
    requirement: Requirement,
    test_file: str,
    functions: dict[str, dict[str, str]],
    clients: dict[str, Any],
    region: str,
    tmp_dir: str,
    history_dir: str,
) -> Outcome:
    """Runs the suite's validator for one requirement."""
    from aws_durable_execution_conformance_tests import sam, validate as official

    if requirement.logical_id not in functions.get(requirement.stack, {}):
        return Outcome(requirement, "failed", f"{requirement.logical_id} is not deployed in {requirement.stack}")
    invoker = sam.Invoker(
        requirement.stack,
        region,
        lambda_client=clients["lambda"],
        cfn_client=clients["cloudformation"],
    )
    try:
        result = official.validate_description(
            function_name=requirement.logical_id,
            description_id=requirement.id,
            test_file=test_file,
            invoker=invoker,
            tmp_dir=tmp_dir,
            region=region,
            aws_clients=clients,
            output_dir=history_dir,
        )
    except Exception as e:  # noqa: BLE001: one requirement's crash must not stop the run
        return Outcome(requirement, "failed", f"validator raised {type(e).__name__}: {e}", [str(e)])
    if result.passed:
        return Outcome(requirement, "passed")
    first = result.errors[0] if result.errors else "failed without a message"
    return Outcome(requirement, "optional-failed" if result.optional else "failed", first, list(result.errors))


ROOT = HERE.parent.parent
STATE = ROOT / ".deployer" / "local"


DEPLOYER: Path | None = None
"""A built deployer to run instead of ``cargo run`` (``--deployer``); for dex it must have the ``test-hooks`` feature."""

APP_PACKAGE = "conformance-app"
"""The cargo package of the conformance suites' app, which the deployer runs (``--app``)."""


def run_deployer(arguments: list[str], features: list[str] | None = None, env: dict[str, str] | None = None) -> str:
    """``cargo run -p deployer -- <arguments>`` at the workspace root (or the ``--deployer`` binary); returns what it
    printed (stdout + stderr)."""
    import os
    import subprocess

    if DEPLOYER is not None:
        command = [str(DEPLOYER)]
    else:
        command = ["cargo", "run", "-q", "-p", "deployer"]
        if features:
            command += ["--features", ",".join(features)]
        command += ["--"]
    # The conformance stacks are an app of their own (conformance/app), never part of the project's app.
    command += ["--app", APP_PACKAGE, *arguments]
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"`deployer {' '.join(arguments)}` failed ({done.returncode}):\n{output[-3000:]}")
    return output


def endpoint_in(output: str) -> str:
    """The local endpoint ``up --local`` printed."""
    found = re.search(r"http://127\.0\.0\.1:[0-9]+", output)
    if not found:
        raise RuntimeError(f"`up --local` printed no endpoint:\n{output[-2000:]}")
    return found.group(0)


def deployed_functions() -> dict[str, dict[str, str]]:
    """Physical function names by stack and logical id, from the local target's ``deployment.json``."""
    data = json.loads((STATE / "deployment.json").read_text())
    return {
        stack: {f["logical_id"]: name for name, f in deployed["functions"].items()}
        for stack, deployed in data["stacks"].items()
    }


def deploy_local(stacks: list[str], env: dict[str, str] | None = None, features: list[str] | None = None) -> str:
    """Deploys ``stacks`` to the local target with the deployer (``up --local <stack>...``); returns the endpoint."""
    return endpoint_in(run_deployer(["up", "--local", *stacks, "--no-credentials"], features, env))


def local_function_name(stack: str, logical_id: str) -> str:
    """The name the local target gives a function the template does not name: ``<stack>-<LogicalId>``."""
    return f"{stack}-{logical_id}"[:64]


class Dex:
    """AWS's durable execution emulator (``dex-local-runner``) as the second engine: it runs the executions and
    calls the local target, started with ``DEPLOYER_LOCAL_DURABLE_ENDPOINT`` pointing at it, to run handlers."""

    def __init__(self, runner: Path, functions: dict[str, dict[str, Any]], region: str, work: Path) -> None:
        import socket
        import subprocess
        import time
        import urllib.request

        work.mkdir(parents=True, exist_ok=True)
        configs = work / "function-configs.json"
        configs.write_text(json.dumps(functions))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.region = region
        self.log = open(work / "dex.log", "ab")  # noqa: SIM115: kept open for the process
        self.process = subprocess.Popen(
            [
                str(runner), "start-server", "--host", "127.0.0.1", "--port", str(port),
                "--lambda-endpoint", "http://127.0.0.1:9", "--local-runner-endpoint", self.url,
                "--local-runner-region", region, "--store-type", "sqlite", "--store-path", str(work / "dex.sqlite"),
                "--function-configs", f"file://{configs}",
            ],
            stdout=self.log,
            stderr=self.log,
            env={"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "dex", "AWS_SECRET_ACCESS_KEY": "dex",
                 "AWS_DEFAULT_REGION": region, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    break
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"dex did not start; see {work / 'dex.log'}") from None
                time.sleep(0.2)

    def set_lambda_endpoint(self, endpoint: str) -> None:
        """Where dex invokes handlers and targets: the local target."""
        import urllib.request

        body = json.dumps({"EndpointUrl": endpoint, "RegionName": self.region}).encode()
        request = urllib.request.Request(f"{self.url}/lambda-endpoint", data=body, method="PUT",
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.log.close()


class DexLambda:
    """The Lambda client the validator gets for the dex column: ``invoke`` starts an execution on dex (which has no
    Invoke route of its own) and, for ``RequestResponse``, waits for its end; every durable execution call goes to
    dex's own API through boto3."""

    def __init__(self, dex: Dex, functions: dict[str, dict[str, Any]], region: str) -> None:
        self._dex = dex
        self._functions = functions
        self._client = lambda_client(dex.url, region)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def invoke(self, FunctionName: str, InvocationType: str = "RequestResponse", Qualifier: str = "$LATEST",  # noqa: N803
               Payload: bytes = b"{}", **_: Any) -> dict[str, Any]:
        import io
        import time
        import urllib.request

        durable = self._functions.get(FunctionName, {}).get("DurableConfig", {})
        body = json.dumps({
            "AccountId": "000000000000",
            "FunctionName": FunctionName,
            "FunctionQualifier": Qualifier,
            "ExecutionName": f"conformance-{time.time_ns()}",
            "ExecutionTimeoutSeconds": durable.get("ExecutionTimeout", 900),
            "ExecutionRetentionPeriodDays": durable.get("RetentionPeriodInDays", 1),
            "Input": Payload.decode() if isinstance(Payload, bytes) else Payload,
        }).encode()
        request = urllib.request.Request(f"{self._dex.url}/start-durable-execution", data=body, method="POST",
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            arn = json.loads(answer.read())["ExecutionArn"]
        if InvocationType == "Event":
            return {"StatusCode": 202, "DurableExecutionArn": arn, "Payload": io.BytesIO(b"")}
        deadline = time.time() + 900
        while time.time() < deadline:
            execution = self._client.get_durable_execution(DurableExecutionArn=arn)
            if execution["Status"] != "RUNNING":
                result = (execution.get("Result") or "null").encode()
                return {"StatusCode": 200, "DurableExecutionArn": arn, "Payload": io.BytesIO(result)}
            time.sleep(0.1)
        raise RuntimeError(f"{arn} still running after 15 minutes on dex")


def dex_function_configs(requirements: list[Requirement], targets: list[dict[str, str]], stacks: list[str]) -> dict:
    """dex's ``--function-configs``: every function of ``stacks`` by its local name, durable ones with their
    DurableConfig (the stacks give every durable function two hours and one day)."""
    configs: dict[str, dict[str, Any]] = {}
    for r in requirements:
        if r.stack in stacks and not r.not_applicable:
            configs[local_function_name(r.stack, r.logical_id)] = {
                "DurableConfig": {"ExecutionTimeout": 7200, "RetentionPeriodInDays": 1}
            }
    for t in targets:
        if t["stack"] in stacks:
            configs[local_function_name(t["stack"], t["logical_id"])] = {}
    return configs


def tools_bin() -> Path:
    """Where ``scripts/install-tools`` put the third-party tools (dex among them)."""
    import os

    return Path(os.environ.get("DEPLOYER_TOOLS_BIN") or ROOT / ".venv-tools" / "bin")


# endregion


# region Reporting


def shorten(text: str, width: int = 160) -> str:
    """One line, at most ``width`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def print_tables(outcomes: list[Outcome], out: Any = sys.stdout, others: dict[str, list[Outcome]] | None = None) -> None:
    """One table per suite, then the totals; ``others`` adds a column per other engine (dex)."""
    others = others or {}
    other_status = {
        engine: {o.requirement.id: o.status for o in results} for engine, results in others.items()
    }
    by_suite: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_suite.setdefault(outcome.requirement.suite, []).append(outcome)
    labels = {"passed": "passed", "failed": "FAILED", "optional-failed": "failed (optional)", "not-applicable": "n/a"}
    columns = "".join(f" {engine:<18}" for engine in other_status)
    for suite, rows in sorted(by_suite.items(), key=lambda item: sort_key(item[1][0].requirement.id)):
        rows.sort(key=lambda o: sort_key(o.requirement.id))
        counts = {status: sum(1 for o in rows if o.status == status) for status in labels}
        print(
            f"\n== {suite}: {counts['passed']} passed, {counts['failed'] + counts['optional-failed']} failed, "
            f"{counts['not-applicable']} not applicable",
            file=out,
        )
        if other_status:
            print(f"  {'id':<6} {'function':<22} {'ours':<18}{columns} first mismatch / reason", file=out)
        for o in rows:
            r = o.requirement
            extra = "".join(f" {labels.get(s.get(r.id, ''), '-'):<18}" for s in other_status.values())
            print(f"  {r.id:<6} {r.logical_id:<22} {labels[o.status]:<18}{extra} {shorten(o.detail)}".rstrip(), file=out)
    applicable = [o for o in outcomes if o.status != "not-applicable"]
    passed = sum(1 for o in applicable if o.status == "passed")
    rate = f"{100.0 * passed / len(applicable):.1f}%" if applicable else "n/a"
    print(
        f"\n== total (ours): {passed} of {len(applicable)} applicable requirements passed ({rate}); "
        f"{len(outcomes) - len(applicable)} not applicable",
        file=out,
    )
    ours = {o.requirement.id: o.status for o in outcomes}
    for engine, statuses in other_status.items():
        theirs = sum(1 for status in statuses.values() if status == "passed")
        only_theirs = sorted((i for i, s in statuses.items() if s == "passed" and ours.get(i) != "passed"), key=sort_key)
        print(
            f"== total ({engine}): {theirs} of {len(applicable)} passed; passing on {engine} but not on ours: "
            f"{', '.join(only_theirs) or 'none'}",
            file=out,
        )
        reasons = failure_reasons(others[engine])
        if reasons:
            print(f"== first mismatches on {engine}, by kind:", file=out)
            for reason, count in reasons:
                print(f"  {count:>4}  {shorten(reason, 140)}", file=out)


def failure_reasons(outcomes: list[Outcome]) -> list[tuple[str, int]]:
    """The first mismatch of each failed requirement with event ids and numbers blanked, counted, most common first."""
    counts: dict[str, int] = {}
    for o in outcomes:
        if o.status in ("failed", "optional-failed"):
            reason = re.sub(r"\d+", "N", o.detail)
            counts[reason] = counts.get(reason, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def read_baseline(path: Path) -> set[str]:
    """Requirement ids that passed before: a JSON list, or ``{"passed": [...]}``."""
    data = json.loads(Path(path).read_text())
    return set(data["passed"] if isinstance(data, dict) else data)


def regressions_from(before: set[str], outcomes: list[Outcome]) -> list[str]:
    """Requirements of this run that passed before (``before``) and do not pass now, in the suite's order."""
    return sorted((o.requirement.id for o in outcomes if o.requirement.id in before and o.status != "passed"), key=sort_key)


def write_baseline(path: Path, outcomes: list[Outcome]) -> None:
    """Records this run's passes, keeping the previous entries of requirements this run did not select."""
    previous: set[str] = set()
    if Path(path).is_file():
        previous = read_baseline(path)
    kept = previous - {o.requirement.id for o in outcomes}
    passed = kept | {o.requirement.id for o in outcomes if o.status == "passed"}
    Path(path).write_text(json.dumps({"passed": sorted(passed, key=sort_key)}, indent=2) + "\n")


# endregion


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="list requirements, logical ids and reasons only")
    parser.add_argument("--endpoint", help="URL of the Lambda API serving the functions (the local target)")
    parser.add_argument(
        "--functions",
        type=Path,
        action="append",
        default=[],
        help="JSON file mapping stack → logical id → function name (repeatable)",
    )
    parser.add_argument("--suite", nargs="+", default=[], help="only these suites (folder names, e.g. step invoke)")
    parser.add_argument("--only", nargs="+", default=[], help="only these requirement ids")
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--logs-from", choices=["files", "endpoint"], default="files")
    parser.add_argument("--logs-dir", type=Path, default=Path(".deployer/local/logs"))
    parser.add_argument("--history-dir", type=Path, default=Path("target/conformance/histories"))
    parser.add_argument("--workers", type=int, default=4, help="requirements validated at once")
    parser.add_argument("--baseline", type=Path, help="exit non-zero when a requirement listed here now fails")
    parser.add_argument("--write-baseline", type=Path, help="record the requirements that passed")
    parser.add_argument(
        "--deploy",
        action="store_true",
        help="deploy the selected stacks to a fresh local target of this workspace first (down --local, then "
        "cargo run -p deployer -- up --local ...), and take it down at the end",
    )
    parser.add_argument(
        "--engines",
        nargs="+",
        choices=["ours", "dex"],
        default=["ours"],
        help="engines to validate on: ours (the local target's engine), dex (AWS's emulator, a second column)",
    )
    parser.add_argument(
        "--deployer",
        type=Path,
        help="with --deploy: this deployer binary instead of `cargo run -p deployer` (built with --features "
        "test-hooks for the dex column)",
    )
    parser.add_argument("--self-test", action="store_true", help="run this driver's own tests (test_run.py)")
    return parser.parse_args(argv)


def run_outcomes(
    selected: list[Requirement],
    files: dict[str, str],
    functions: dict[str, dict[str, str]],
    clients: dict[str, Any],
    args: argparse.Namespace,
    history_dir: Path,
) -> list[Outcome]:
    """Validates every selected requirement (a few at once)."""
    history_dir.mkdir(parents=True, exist_ok=True)
    outcomes = [Outcome(r, "not-applicable", r.not_applicable) for r in selected if r.not_applicable]
    runnable = [r for r in selected if not r.not_applicable]
    with tempfile.TemporaryDirectory(prefix="conformance-events-") as tmp_dir:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
            futures = [
                pool.submit(validate, r, files[r.id], functions, clients, args.region, tmp_dir, str(history_dir))
                for r in runnable
            ]
            outcomes.extend(f.result() for f in futures)
    return outcomes


def run_engine(
    engine: str,
    args: argparse.Namespace,
    selected: list[Requirement],
    stacks: list[str],
    files: dict[str, str],
    requirements: list[Requirement],
    targets: list[dict[str, str]],
) -> list[Outcome]:
    """Deploys (with ``--deploy``) and validates the selection on one engine: ``ours`` (the local target's own)
    or ``dex`` (AWS's emulator running the same handlers through the local target)."""
    dex = None
    try:
        if args.deploy:
            print(f"conformance: deploying {len(stacks)} stack(s) to the local target for {engine}", file=sys.stderr)
            run_deployer(["down", "--local"])
            if engine == "dex":
                configs = dex_function_configs(requirements, targets, stacks)
                dex = Dex(tools_bin() / "dex-local-runner", configs, args.region, ROOT / "target/conformance/dex")
                endpoint = deploy_local(stacks, {"DEPLOYER_LOCAL_DURABLE_ENDPOINT": dex.url}, ["test-hooks"])
                dex.set_lambda_endpoint(endpoint)
                lambda_ = DexLambda(dex, configs, args.region)
            else:
                endpoint = deploy_local(stacks)
                lambda_ = lambda_client(endpoint, args.region)
            functions = deployed_functions()
            args.endpoint = endpoint
        else:
            functions = load_functions(args.functions, requirements)
            lambda_ = lambda_client(args.endpoint, args.region)
        clients = {"lambda": lambda_, "cloudformation": LocalCloudFormation(functions), "logs": logs_client(args, args.region)}
        return run_outcomes(selected, files, functions, clients, args, args.history_dir / engine)
    finally:
        if args.deploy:
            run_deployer(["down", "--local"])
        if dex is not None:
            dex.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    global DEPLOYER
    DEPLOYER = args.deployer.resolve() if args.deployer else None
    if args.self_test:
        import unittest

        suite = unittest.defaultTestLoader.discover(str(HERE), pattern="test_run.py", top_level_dir=str(HERE))
        return 0 if unittest.TextTestRunner(verbosity=1).run(suite).wasSuccessful() else 1
    from aws_durable_execution_conformance_tests import config, validate as official

    requirements, targets = load_manifest()
    by_id = {r.id: r for r in requirements}
    files = official.discover_test_files(config.TESTS_DIR)
    missing = sorted(set(files) - set(by_id), key=sort_key)
    extra = sorted(set(by_id) - set(files), key=sort_key)
    if missing or extra:
        print(f"manifest and suite disagree: not in manifest {missing}, not in suite {extra}", file=sys.stderr)
        return 2

    suites = set(args.suite)
    known_suites = {r.suite for r in requirements}
    if suites - known_suites:
        print(f"unknown suite(s) {sorted(suites - known_suites)}; known: {sorted(known_suites)}", file=sys.stderr)
        return 2
    selected = [
        r
        for r in sorted(requirements, key=lambda r: sort_key(r.id))
        if (not suites or r.suite in suites) and (not args.only or r.id in args.only)
    ]

    if args.dry_run:
        outcomes = [
            Outcome(r, "not-applicable", r.not_applicable)
            if r.not_applicable
            else Outcome(r, "passed", f"{r.stack} / handler {r.handler}")
            for r in selected
        ]
        print(f"{len(selected)} requirement(s) from {config.TESTS_DIR}")
        for o in outcomes:
            r = o.requirement
            what = f"n/a: {shorten(o.detail, 100)}" if o.status == "not-applicable" else o.detail
            print(f"  {r.id:<6} {r.suite:<19} {r.logical_id:<22} {what}")
        return 0

    stacks = sorted({r.stack for r in selected})
    if not args.deploy and (not args.endpoint or not args.functions):
        print("--endpoint and --functions are needed (or --deploy, or --dry-run)", file=sys.stderr)
        return 2
    if "dex" in args.engines and not args.deploy:
        print("the dex column needs --deploy (the runner starts dex and deploys the stacks for it)", file=sys.stderr)
        return 2
    results: dict[str, list[Outcome]] = {}
    for engine in args.engines:
        results[engine] = run_engine(engine, args, selected, stacks, files, requirements, targets)
    outcomes = results.pop("ours", None)
    if outcomes is None:
        outcomes, results = results.popitem()[1], {}
    print_tables(outcomes, others=results)
    if args.write_baseline:
        write_baseline(args.write_baseline, outcomes)
    if args.baseline:
        regressions = regressions_from(read_baseline(args.baseline), outcomes)
        if regressions:
            print(f"\nregressions (passed in {args.baseline}, fail now): {', '.join(regressions)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
