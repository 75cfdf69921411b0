"""Checks that run.py's stand-ins satisfy the suite's own code: ``sam.Invoker`` resolving logical ids through
:class:`run.LocalCloudFormation`, and ``cloudwatch.CloudWatchLogRetriever`` reading a function's log group
through :class:`run.LocalLogs` with the exact filter pattern it sends.

Run with ``conformance/runner/run --self-test``.
"""

from __future__ import annotations

import json
import tempfile
import unittest
from pathlib import Path

import run
from aws_durable_execution_conformance_tests import cloudwatch, sam, validate

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST/durable-execution/e/1"
STACK = "durable-conformance-step"


class CloudFormationView(unittest.TestCase):
    def setUp(self) -> None:
        self.cfn = run.LocalCloudFormation({STACK: {"Step1x1": "durable-conformance-step-Step1x1"}})

    def test_the_invoker_resolves_logical_ids(self) -> None:
        invoker = sam.Invoker(STACK, "us-east-1", lambda_client=object(), cfn_client=self.cfn)
        self.assertEqual(invoker._resolve_function("Step1x1"), "durable-conformance-step-Step1x1")
        with self.assertRaises(sam.InvokeError):
            invoker._resolve_function("Step1x2")

    def test_an_unknown_stack_is_the_error_boto3_raises(self) -> None:
        invoker = sam.Invoker("no-such-stack", "us-east-1", lambda_client=object(), cfn_client=self.cfn)
        with self.assertRaises(sam.InvokeError) as raised:
            invoker._resolve_function("Step1x1")
        self.assertIn("does not exist", str(raised.exception))

    def test_the_log_retriever_finds_the_functions_group(self) -> None:
        retriever = cloudwatch.CloudWatchLogRetriever(cloudformation_client=self.cfn, logs_client=None)
        self.assertEqual(retriever.get_log_group_name(STACK, "Step1x1"), "/aws/lambda/durable-conformance-step-Step1x1")
        with self.assertRaises(cloudwatch.CloudWatchLogError):
            retriever.get_log_group_name(STACK, "Missing")


class LogsView(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        lines = [
            json.dumps({"plugin": "CONFPLUGIN", "durableExecutionArn": ARN, "hook": "invocation-start"}),
            "START RequestId: 1 Version: $LATEST",
            json.dumps({"timestamp": "2026-01-01T00:00:01.000Z", "level": "INFO", "executionArn": ARN, "message": "one"}),
            json.dumps({"timestamp": "2026-01-01T00:00:02.000Z", "executionArn": "other", "message": "two"}),
            json.dumps({"plugin": "CONFPLUGIN", "durableExecutionArn": ARN, "hook": "operation-start"}),
            json.dumps({"timestamp": "2026-01-01T00:01:00.000Z", "executionArn": ARN, "message": "late"}),
        ]
        Path(self.dir.name, "f.log").write_text("\n".join(lines) + "\n")
        self.logs = run.LocalLogs(Path(self.dir.name))

    def tearDown(self) -> None:
        self.dir.cleanup()

    def test_the_retriever_gets_the_executions_records_only(self) -> None:
        retriever = cloudwatch.CloudWatchLogRetriever(cloudformation_client=None, logs_client=self.logs)
        start = run._epoch_ms("2026-01-01T00:00:00.000Z")
        end = run._epoch_ms("2026-01-01T00:00:30.000Z")
        escaped = ARN.replace('"', '\\"')
        pattern = f'{{ ($.durableExecutionArn = "{escaped}") || ($.executionArn = "{escaped}") }}'
        events = retriever.get_log_events("/aws/lambda/f", start, end, filter_pattern=pattern, wait_seconds=0)
        messages = [json.loads(e["message"]) for e in events]
        self.assertEqual(
            [m.get("message", m.get("hook")) for m in messages],
            ["invocation-start", "one", "operation-start"],
            "a line without a time of its own before any stamped line is kept",
        )
        self.assertEqual([e["ingestionTime"] for e in events], [0, 2, 4], "file order is kept")

    def test_the_validator_counts_what_the_view_returns(self) -> None:
        events = self.logs.filter_log_events(logGroupName="/aws/lambda/f", filterPattern='{ $.executionArn = "other" }')
        result = cloudwatch.CloudWatchLogValidator().validate([{"match": {"message": "two"}, "count": 1}], events["events"])
        self.assertTrue(result.success, result.errors)

    def test_a_missing_file_is_an_empty_group_and_plain_terms_match_text(self) -> None:
        self.assertEqual(self.logs.filter_log_events(logGroupName="/aws/lambda/none")["events"], [])
        found = self.logs.filter_log_events(logGroupName="/aws/lambda/f", filterPattern="START RequestId")
        self.assertEqual(len(found["events"]), 1)


class Manifest(unittest.TestCase):
    def test_the_manifest_covers_the_installed_suite(self) -> None:
        from aws_durable_execution_conformance_tests import config

        requirements, targets = run.load_manifest()
        files = validate.discover_test_files(config.TESTS_DIR)
        self.assertEqual({r.id for r in requirements}, set(files))
        self.assertTrue(all(r.logical_id.isalnum() for r in requirements))
        self.assertEqual(len([r for r in requirements if r.not_applicable]), 5)
        self.assertEqual(len(targets), 4)

    def test_functions_files_of_every_shape(self) -> None:
        requirements, _ = run.load_manifest()
        with tempfile.TemporaryDirectory() as d:
            nested = Path(d, "nested.json")
            nested.write_text(json.dumps({STACK: {"Step1x1": "a"}}))
            flat = Path(d, "flat.json")
            flat.write_text(json.dumps({"Wait2x1": "b"}))
            local = Path(d, "deployment.json")
            local.write_text(json.dumps({"stack": "durable-conformance-map", "functions": {"c": {"logical_id": "Map9x1"}}}))
            functions = run.load_functions([nested, flat, local], requirements)
        self.assertEqual(
            functions,
            {STACK: {"Step1x1": "a"}, "durable-conformance-wait": {"Wait2x1": "b"}, "durable-conformance-map": {"Map9x1": "c"}},
        )


class Baseline(unittest.TestCase):
    def test_a_requirement_that_passed_before_and_fails_now_is_a_regression(self) -> None:
        requirements, _ = run.load_manifest()
        by_id = {r.id: r for r in requirements}
        outcomes = [
            run.Outcome(by_id["1-1"], "passed"),
            run.Outcome(by_id["1-2"], "failed", "mismatch"),
            run.Outcome(by_id["1-3"], "optional-failed", "mismatch"),
            run.Outcome(by_id["5-1"], "failed", "never passed"),
        ]
        self.assertEqual(run.regressions_from({"1-1", "1-2", "1-3", "2-1"}, outcomes), ["1-2", "1-3"])
        self.assertEqual(run.regressions_from(set(), outcomes), [])

    def test_failures_are_counted_by_their_first_mismatch(self) -> None:
        requirements, _ = run.load_manifest()
        by_id = {r.id: r for r in requirements}
        outcomes = [
            run.Outcome(by_id["1-1"], "failed", "Event[EventId=4].InvocationCompletedDetails: key missing"),
            run.Outcome(by_id["1-2"], "failed", "Event[EventId=7].InvocationCompletedDetails: key missing"),
            run.Outcome(by_id["1-3"], "passed"),
            run.Outcome(by_id["1-4"], "optional-failed", "Name: expected 'a'"),
        ]
        self.assertEqual(
            run.failure_reasons(outcomes),
            [("Event[EventId=N].InvocationCompletedDetails: key missing", 2), ("Name: expected 'a'", 1)],
        )

    def test_a_written_baseline_keeps_what_this_run_did_not_select(self) -> None:
        requirements, _ = run.load_manifest()
        by_id = {r.id: r for r in requirements}
        with tempfile.TemporaryDirectory() as d:
            path = Path(d, "baseline.json")
            path.write_text(json.dumps(["2-1", "1-2"]))
            run.write_baseline(path, [run.Outcome(by_id["1-1"], "passed"), run.Outcome(by_id["1-2"], "failed", "x")])
            self.assertEqual(run.read_baseline(path), {"1-1", "2-1"})


if __name__ == "__main__":
    unittest.main()
