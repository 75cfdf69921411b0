"""DurableLambdaFunction of the original pattern (reconstructed): a checkpointed step, then a chained invoke."""

import json
import os

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_step

PROCESSOR_FUNCTION_NAME = os.environ.get("PROCESSOR_FUNCTION_NAME", "processor")


@durable_step
def prepare_input(step_context, values):
    if not all(isinstance(v, (int, float)) for v in values):
        raise ValueError("All values must be numbers")
    return {"values": values, "operation": "sum_and_average"}


@durable_execution
def lambda_handler(event, context: DurableContext):
    values = event.get("values", [10, 20, 30, 40, 50])
    prepared = context.step(prepare_input(values), name="prepare_input")
    result = context.invoke(PROCESSOR_FUNCTION_NAME, prepared, name="invoke_processor")
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "message": "Durable orchestration completed successfully",
                "input_values": values,
                "processing_result": result,
            }
        ),
    }
