"""ProcessorFunction of the original pattern (reconstructed): statistics over a list of numbers."""

import json


def lambda_handler(event, context):
    values = event.get("values", [])
    operation = event.get("operation", "sum_and_average")
    if not values:
        return {"error": "No values provided"}
    total = sum(values)
    return {
        "operation": operation,
        "count": len(values),
        "sum": total,
        "average": total / len(values),
        "max": max(values),
        "min": min(values),
    }
