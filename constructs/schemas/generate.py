#!/usr/bin/env python3
"""Writes constructs/schemas/us-east-1.json.gz: the CloudFormation resource provider schemas of every resource type,
trimmed to what validation at synth needs, from the cfn-lint wheel pinned in cfn-lint.lock (hash-checked).

The bundle is one JSON object, type name -> schema (properties, definitions, required, type, enum, pattern, lengths,
ranges, items, oneOf/anyOf/allOf, read-only properties), plus `getAtt`: the attribute names `Fn::GetAtt` accepts for
the type, as cfn-lint computes them (read-only properties, every property of the types whose properties all read
back, and its list of per-type exceptions). Output is deterministic (sorted keys, gzip with mtime 0), so
`generate.py --check` can prove the checked-in bundle is exactly what the pinned wheel yields.

Usage: generate.py [--check] [--wheel PATH]   (needs pip and network access to PyPI unless --wheel is given)
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLE = HERE / "us-east-1.json.gz"

# The schema keywords validation reads; everything else (descriptions, handlers, tagging, examples) is dropped.
NODE_KEYWORDS = {
    "type", "$ref", "properties", "additionalProperties", "required", "items", "enum", "const", "pattern",
    "minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "patternProperties", "oneOf", "anyOf", "allOf", "minProperties", "maxProperties",
}
TOP_KEYWORDS = NODE_KEYWORDS | {"definitions", "readOnlyProperties", "createOnlyProperties"}
NAME_MAPS = {"properties", "definitions", "patternProperties"}
SUBSCHEMAS = {"items", "additionalProperties"}
SUBSCHEMA_LISTS = {"oneOf", "anyOf", "allOf"}


def read_lock() -> dict[str, str]:
    lock = {}
    for line in (HERE / "cfn-lint.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            lock[key.strip()] = value.strip()
    return lock


def download(lock: dict[str, str], into: Path) -> Path:
    requirement = into / "requirement.txt"
    requirement.write_text(f"{lock['package']}=={lock['version']} --hash=sha256:{lock['sha256']}\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--require-hashes", "-r", str(requirement), "-d", str(into)],
        check=True,
    )
    return into / lock["wheel"]


def trim(node, keywords=NODE_KEYWORDS):
    if isinstance(node, list):
        return [trim(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key not in keywords:
            continue
        if key in NAME_MAPS and isinstance(value, dict):
            out[key] = {name: trim(schema) for name, schema in value.items()}
        elif key in SUBSCHEMAS and isinstance(value, dict):
            out[key] = trim(value)
        elif key in SUBSCHEMA_LISTS:
            out[key] = [trim(item) for item in value]
        else:
            out[key] = value
    return out


def getatt_lists(source: str) -> tuple[set[str], dict[str, list[str]]]:
    """cfn-lint's `_all_property_types` and `_exceptions`, read from its module's source without importing it."""
    all_properties, exceptions = set(), {}
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            name = getattr(statement.targets[0], "id", None)
            if name == "_all_property_types":
                all_properties = set(ast.literal_eval(statement.value))
            elif name == "_exceptions":
                exceptions = ast.literal_eval(statement.value)
    return all_properties, exceptions


def resolve(schema: dict, node: dict) -> dict:
    seen = set()
    while "$ref" in node and node["$ref"] not in seen:
        seen.add(node["$ref"])
        parts = node["$ref"].lstrip("#/").split("/")
        target = schema
        for part in parts:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node


def readable_properties(schema: dict, node: dict, prefix: str, out: set[str], depth: int = 0) -> None:
    """Every property path `Fn::GetAtt` reads on a type whose properties all read back (cfn-lint's rule: into
    objects, not into arrays of objects or arrays)."""
    if depth > 8:
        return
    for name, child in node.get("properties", {}).items():
        child = resolve(schema, child)
        path = f"{prefix}{name}"
        types = child.get("type", [])
        types = types if isinstance(types, list) else [types]
        if "object" in types and "properties" in child:
            readable_properties(schema, child, path + ".", out, depth + 1)
        elif "array" in types:
            item = resolve(schema, child.get("items", {}))
            if item.get("type") not in ("object", "array"):
                out.add(path)
        else:
            out.add(path)


def bundle(wheel: Path, region: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        base = "cfnlint/data/schemas"
        provider = json.loads(archive.read(f"{base}/providers/{region}.json"))
        all_properties, exceptions = getatt_lists(archive.read("cfnlint/schema/_getatts.py").decode())
        out = {}
        for type_name in sorted(provider):
            schema = json.loads(archive.read(f"{base}/resources/{provider[type_name]}.json"))
            attributes = {".".join(p.split("/")[2:]) for p in schema.get("readOnlyProperties", [])}
            if type_name in all_properties:
                readable_properties(schema, schema, "", attributes)
            attributes.update(exceptions.get(type_name, []))
            trimmed = trim(schema, TOP_KEYWORDS)
            trimmed["getAtt"] = sorted(attributes)
            out[type_name] = trimmed
    text = json.dumps(out, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    return gzip.compress(text, 9, mtime=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the checked-in bundle, write nothing")
    parser.add_argument("--wheel", type=Path, help="use this wheel (its sha256 must match the lock)")
    args = parser.parse_args()
    lock = read_lock()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download(lock, Path(tmp))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != lock["sha256"]:
            print(f"{wheel}: sha256 {digest}, the lock says {lock['sha256']}", file=sys.stderr)
            return 1
        data = bundle(wheel, lock["region"])
    if args.check:
        if BUNDLE.read_bytes() != data:
            print(f"{BUNDLE} differs from what {lock['wheel']} yields: run {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{BUNDLE.name}: as {lock['wheel']} yields ({len(data)} bytes)")
        return 0
    BUNDLE.write_bytes(data)
    print(f"wrote {BUNDLE} ({len(data)} bytes) from {lock['wheel']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
