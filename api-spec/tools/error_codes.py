#!/usr/bin/env python3
"""Keeps the error codes of api-spec/openapi.yaml in one piece.

Three things describe the errors of the API and must never drift apart:

  (a) `x-error-codes` of every operation: the codes it can answer with (the source);
  (b) its 4xx/5xx responses: one per status, whose `error.code` is an `enum` of exactly the
      codes of (a) with that status (so generated clients get a union type per response);
  (c) the catalogue `components/schemas/ErrorCode`: every code with its HTTP status
      (`x-status`) and a one-line meaning, rendered from api-spec/error-codes.yaml.

Usage (from the repository root; needs ruamel.yaml, see requirements.txt):

  python3 api-spec/tools/error_codes.py            # regenerate (b) and (c) from (a), in place
  python3 api-spec/tools/error_codes.py --check    # exit 1 when the file is not what (a) gives
  python3 api-spec/tools/error_codes.py --add auth.session_ended --like auth.token_missing
  python3 api-spec/tools/error_codes.py --add signin.busy --ops sign_in_create
  python3 api-spec/tools/error_codes.py --remove bind.already_bound [--ops ID,...]

`--add`/`--remove` edit (a) (and the `x-error-codes` of the shared responses in
components/responses) and then regenerate. A new code must first be added to
api-spec/error-codes.yaml with its status.

Rules of the regeneration, per operation and status:
  * when a shared response of components/responses carries exactly these codes (its own
    `x-error-codes`), the operation refers to it (`$ref`, keeping an operation-specific
    `description` beside it); otherwise the response is written out inline;
  * headers: `X-Request-Id`; `WWW-Authenticate` on 401s raised by the API; `Retry-After` on
    429 and 503;
  * examples whose code is not in the enum are dropped; one is generated when none is left;
  * a description must name every code of its response in backticks: missing ones are appended
    from the catalogue; a description naming a code that the response cannot carry is an error
    to fix by hand;
  * error responses for statuses the operation no longer has are removed, and so are shared
    error responses nobody refers to.
Besides, every "NNN `code`" written in any description of the file must name a catalogued code
with that status (this catches prose such as "409 `idempotency.key_reused`" after a code moved).
"""

from __future__ import annotations

import argparse
import copy
import difflib
import io
import re
import sys
from pathlib import Path

try:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import LiteralScalarString
except ImportError:  # pragma: no cover
    sys.exit("error_codes.py needs ruamel.yaml: pip install -r api-spec/tools/requirements.txt")

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "api-spec" / "openapi.yaml"
REGISTRY = ROOT / "api-spec" / "error-codes.yaml"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ERROR_REF = "#/components/schemas/Error"
ERROR_CODE_SCHEMA = "ErrorCode"
CODE_IN_TEXT = re.compile(r"`([a-z_]+(?:\.[a-z_]+)*)`")
STATUS_AND_CODE = re.compile(r"(?<![\w.])([1-5]\d\d)\s+`([a-z_]+(?:\.[a-z_]+)*)`")
# 401s raised by WeChat's answer, not by the API's own checks, carry no WWW-Authenticate.
NO_WWW_AUTHENTICATE = {"wechat.code_invalid"}
WIDTH = 112


# --------------------------------------------------------------------------- YAML in and out


def yaml_rt() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = WIDTH
    yaml.indent(mapping=2, sequence=2, offset=0)

    def null(representer, _data):
        return representer.represent_scalar("tag:yaml.org,2002:null", "null")

    yaml.representer.add_representer(type(None), null)
    return yaml


def dump(doc) -> str:
    out = io.StringIO()
    yaml_rt().dump(doc, out)
    # The emitter leaves a space where it folds a long plain scalar; YAML drops it anyway.
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())


def load_registry() -> dict:
    registry = YAML(typ="safe").load(REGISTRY.read_text(encoding="utf-8"))
    problems = []
    for code, entry in registry.items():
        if not re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", code):
            problems.append(f"{REGISTRY.name}: `{code}` is not a dotted lower-case code")
        if not isinstance(entry, dict) or not isinstance(entry.get("status"), int):
            problems.append(f"{REGISTRY.name}: `{code}` needs an integer `status`")
        elif not 400 <= entry["status"] <= 599:
            problems.append(f"{REGISTRY.name}: `{code}` has status {entry['status']}, not 4xx/5xx")
        elif not entry.get("meaning"):
            problems.append(f"{REGISTRY.name}: `{code}` needs a `meaning`")
    if problems:
        sys.exit("\n".join(problems))
    return registry


# --------------------------------------------------------------------------- helpers


def operations(doc):
    """(operationId or 'METHOD path', operation) of every operation, in file order."""
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method) if item else None
            if op is not None:
                yield op.get("operationId") or f"{method.upper()} {path}", op


def ordered(codes, registry):
    position = {code: i for i, code in enumerate(registry)}
    return sorted(set(codes), key=lambda c: (registry[c]["status"], position[c]))


def seq(items) -> CommentedSeq:
    s = CommentedSeq()
    s.extend(items)
    return s


def cmap(pairs) -> CommentedMap:
    m = CommentedMap()
    for k, v in pairs:
        m[k] = v
    return m


def to_node(value):
    """Plain Python data as fresh ruamel nodes (never shared, so no anchors are emitted)."""
    if isinstance(value, dict):
        return cmap((k, to_node(v)) for k, v in value.items())
    if isinstance(value, list):
        return seq(to_node(v) for v in value)
    return value


def is_ref(node) -> bool:
    return isinstance(node, dict) and "$ref" in node


def ref_name(node) -> str | None:
    ref = node.get("$ref", "") if isinstance(node, dict) else ""
    prefix = "#/components/responses/"
    return ref[len(prefix):] if ref.startswith(prefix) else None


def is_error_response(response, doc) -> bool:
    """Whether a response (inline or `$ref`) has the `Error` body (not e.g. `Readiness`)."""
    name = ref_name(response)
    if name is not None:
        response = doc["components"]["responses"].get(name, {})
    schema = (((response or {}).get("content") or {}).get("application/json") or {}).get("schema") or {}
    if schema.get("$ref") == ERROR_REF:
        return True
    return any(part.get("$ref") == ERROR_REF for part in schema.get("allOf", []) if isinstance(part, dict))


def enum_of(response):
    schema = response["content"]["application/json"]["schema"]
    for part in schema.get("allOf", []):
        try:
            return list(part["properties"]["error"]["properties"]["code"]["enum"])
        except (KeyError, TypeError):
            continue
    return None


def narrowed_schema(codes) -> CommentedMap:
    return to_node(
        {
            "allOf": [
                {"$ref": ERROR_REF},
                {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code"],
                            # `message` and `details` are named again so that validators reading
                            # this part on its own (unevaluatedProperties) accept them.
                            "properties": {
                                "code": {"enum": list(codes)},
                                "message": {"type": "string"},
                                "details": {"$ref": "#/components/schemas/ErrorDetails"},
                            },
                        }
                    },
                },
            ]
        }
    )


def example_codes(media) -> list:
    found = []
    if "example" in media:
        found.append(((media["example"] or {}).get("error") or {}).get("code"))
    for value in (media.get("examples") or {}).values():
        found.append((((value or {}).get("value") or {}).get("error") or {}).get("code"))
    return found


def generated_example(code, registry):
    entry = registry[code]
    return to_node(
        {"error": {"code": code, "message": entry.get("message") or code, "details": entry.get("details") or {}}}
    )


def headers_for(status, codes, existing) -> CommentedMap:
    headers = CommentedMap()
    headers["X-Request-Id"] = to_node({"$ref": "#/components/headers/XRequestId"})
    if status == 401 and any(c not in NO_WWW_AUTHENTICATE for c in codes):
        headers["WWW-Authenticate"] = to_node({"$ref": "#/components/headers/WWWAuthenticate"})
    if status in (429, 503):
        headers["Retry-After"] = to_node({"$ref": "#/components/headers/RetryAfter"})
    for name, value in (existing or {}).items():
        if name not in headers and name not in ("WWW-Authenticate", "Retry-After"):
            headers[name] = copy.deepcopy(value)
    return headers


def completed_description(text, codes, registry, where, errors):
    """`text` naming every code of `codes`; an error for each catalogued code it names wrongly."""
    text = text or ""
    named = set(CODE_IN_TEXT.findall(text))
    for code in sorted(named):
        if code in registry and code not in codes:
            errors.append(
                f"{where}: the description names `{code}` ({registry[code]['status']}), which this response "
                f"does not carry ({', '.join(codes)}); fix the prose"
            )
    missing = [c for c in codes if c not in named]
    if not missing:
        return None
    extra = "; ".join(f"`{c}` — {lower_first(registry[c]['meaning'])}" for c in missing)
    base = str(text).rstrip()
    if not base:
        new = f"{extra[0].upper()}{extra[1:]}" if extra else ""
    elif base.endswith(".") and " Also `" in base:
        new = f"{base[:-1]}; {extra}"
    elif base.endswith("."):
        new = f"{base} Also {extra}"
    else:
        new = f"{base}; {extra}"
    if not new.endswith("."):
        new += "."
    return LiteralScalarString(new) if isinstance(text, LiteralScalarString) else new


def lower_first(text: str) -> str:
    text = text.rstrip(".")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


# --------------------------------------------------------------------------- regeneration


def regenerate(doc, registry, errors):
    components = doc.setdefault("components", CommentedMap())
    shared = components.setdefault("responses", CommentedMap())
    write_catalogue(components, registry)

    # Shared error responses: their own `x-error-codes` decide their enum.
    shared_sets = {}
    for name, response in shared.items():
        codes = response.get("x-error-codes") if isinstance(response, dict) else None
        if codes is None:
            continue
        unknown = [c for c in codes if c not in registry]
        if unknown:
            errors.append(f"components/responses/{name}: unknown codes {unknown} (add them to {REGISTRY.name})")
            continue
        statuses = {registry[c]["status"] for c in codes}
        if len(statuses) != 1:
            errors.append(f"components/responses/{name}: codes of several statuses {sorted(statuses)}")
            continue
        codes = ordered(codes, registry)
        response["x-error-codes"] = seq(codes)
        fill_response(response, statuses.pop(), codes, registry, f"components/responses/{name}", errors, doc)
        shared_sets[frozenset(codes)] = name

    used_shared = set()
    used_codes = set()
    for op_id, op in operations(doc):
        codes = op.get("x-error-codes")
        if codes is None:
            errors.append(f"{op_id}: no `x-error-codes` (an empty list when it has no error answers)")
            continue
        unknown = [c for c in codes if c not in registry]
        if unknown:
            errors.append(f"{op_id}: unknown codes {unknown} (add them to {REGISTRY.name} first)")
            continue
        globals_listed = [c for c in codes if registry[c].get("global")]
        if globals_listed:
            errors.append(f"{op_id}: {globals_listed} can be answered on any path; do not list them")
        codes = ordered(codes, registry)
        used_codes.update(codes)
        set_before_responses(op, seq(codes))
        by_status = {}
        for code in codes:
            by_status.setdefault(registry[code]["status"], []).append(code)
        responses = op["responses"]
        for key in list(responses):
            status = int(key) if str(key).isdigit() else None
            if status and status >= 400 and status not in by_status and is_error_response(responses[key], doc):
                del responses[key]
        for status, group in by_status.items():
            key = str(status)
            where = f"{op_id} {key}"
            existing = responses.get(key)
            shared_name = shared_sets.get(frozenset(group))
            if shared_name:
                response = CommentedMap()
                response["$ref"] = f"#/components/responses/{shared_name}"
                # An operation's own words stay beside the reference (an inline response
                # becoming a reference keeps its description too).
                note = existing.get("description") if existing is not None else None
                if note:
                    fixed = completed_description(note, group, registry, where, errors)
                    response["description"] = fixed if fixed is not None else note
                used_shared.add(shared_name)
            else:
                response = inline_from(existing, shared, doc)
                fill_response(response, status, group, registry, where, errors, doc)
            responses[key] = response
        sort_responses(op)

    for name in list(shared):
        response = shared[name]
        if isinstance(response, dict) and "x-error-codes" in response and name not in used_shared:
            if not any(ref_name(r) == name for r in all_response_refs(doc)):
                del shared[name]

    for code, entry in registry.items():
        if code not in used_codes and not entry.get("global"):
            errors.append(f"{REGISTRY.name}: `{code}` is listed by no operation (remove it, or list it)")

    check_prose(doc, registry, errors)


def all_response_refs(doc):
    for _, op in operations(doc):
        for response in (op.get("responses") or {}).values():
            if is_ref(response):
                yield response


def set_before_responses(op, codes):
    if "x-error-codes" in op:
        op["x-error-codes"] = codes
        return
    keys = list(op)
    position = keys.index("responses") if "responses" in keys else len(keys)
    op.insert(position, "x-error-codes", codes)


def sort_responses(op):
    responses = op["responses"]
    keys = sorted(responses, key=lambda k: (0, int(k)) if str(k).isdigit() else (1, str(k)))
    if list(responses) == keys:
        return
    items = [(k, responses[k]) for k in keys]
    for k in list(responses):
        del responses[k]
    for k, v in items:
        responses[k] = v


def inline_from(existing, shared, doc):
    """An inline response to regenerate: the existing one, or a copy of the one it referred to."""
    if existing is None:
        return CommentedMap()
    name = ref_name(existing)
    if name is None:
        return existing
    base = copy.deepcopy(shared.get(name) or CommentedMap())
    base.pop("x-error-codes", None)
    if existing.get("description"):
        base["description"] = existing["description"]
    return base


def fill_response(response, status, codes, registry, where, errors, doc):
    """Makes `response` an inline error response for exactly `codes` (all of `status`)."""
    description = response.get("description")
    fixed = completed_description(description, codes, registry, where, errors)
    if fixed is not None:
        description = fixed
    headers = headers_for(status, codes, response.get("headers"))
    media = ((response.get("content") or {}).get("application/json")) or CommentedMap()
    if "example" in media:
        code = ((media["example"] or {}).get("error") or {}).get("code")
        if code not in codes:
            del media["example"]
    if "examples" in media:
        for key in list(media["examples"]):
            code = (((media["examples"][key] or {}).get("value") or {}).get("error") or {}).get("code")
            if code not in codes:
                del media["examples"][key]
        if not media["examples"]:
            del media["examples"]
    new_media = CommentedMap()
    new_media["schema"] = narrowed_schema(codes)
    if "examples" in media:
        new_media["examples"] = media["examples"]
    elif "example" in media:
        new_media["example"] = media["example"]
    else:
        new_media["example"] = generated_example(codes[0], registry)
    content = CommentedMap()
    content["application/json"] = new_media
    keep = {k: v for k, v in response.items() if k not in ("description", "headers", "content", "x-error-codes")}
    codes_list = response.get("x-error-codes")
    for k in list(response):
        del response[k]
    response["description"] = description or ""
    if codes_list is not None:
        response["x-error-codes"] = codes_list
    response["headers"] = headers
    response["content"] = content
    for k, v in keep.items():
        response[k] = v


def write_catalogue(components, registry):
    schemas = components.setdefault("schemas", CommentedMap())
    entries = CommentedSeq()
    for code, entry in registry.items():
        item = CommentedMap()
        item["const"] = code
        item["description"] = " ".join(str(entry["meaning"]).split())
        item["x-status"] = entry["status"]
        if entry.get("global"):
            item["x-global"] = True
        entries.append(item)
    catalogue = CommentedMap()
    catalogue["type"] = "string"
    catalogue["description"] = LiteralScalarString(
        "Every error code of the API (`error.code`), with the HTTP status it always comes with (`x-status`) and\n"
        "what it means. Each operation lists the codes it can answer with in `x-error-codes`, and each of its\n"
        "error responses narrows `error.code` to the codes of its status. `x-global: true`: any path can answer\n"
        "it; no operation lists it.\n\n"
        "Generated by `api-spec/tools/error_codes.py` from `api-spec/error-codes.yaml`; do not edit by hand."
    )
    catalogue["oneOf"] = entries
    if ERROR_CODE_SCHEMA in schemas:
        schemas[ERROR_CODE_SCHEMA] = catalogue
    else:
        keys = list(schemas)
        position = keys.index("Error") + 1 if "Error" in keys else len(keys)
        schemas.insert(position, ERROR_CODE_SCHEMA, catalogue)


def check_prose(doc, registry, errors):
    """Every "NNN `code`" of every description names a catalogued code of that status."""

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("description", "summary") and isinstance(value, str):
                    for status, code in STATUS_AND_CODE.findall(value):
                        entry = registry.get(code)
                        if entry is None:
                            errors.append(f"{path}: prose names {status} `{code}`, which is not a catalogued code")
                        elif entry["status"] != int(status):
                            errors.append(
                                f"{path}: prose says {status} `{code}`, but `{code}` is {entry['status']}"
                            )
                else:
                    walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(doc, "#")


# --------------------------------------------------------------------------- editing (a)


def edit_codes(doc, registry, add=None, remove=None, like=None, ops=None):
    if add and add not in registry:
        sys.exit(f"`{add}` is not in {REGISTRY.name}; add it there (with its status) first")
    wanted = set(ops.split(",")) if ops else None
    known = {op_id for op_id, _ in operations(doc)}
    if wanted and wanted - known:
        sys.exit(f"no such operations: {sorted(wanted - known)}")
    targets = [(op_id, op) for op_id, op in operations(doc)]
    targets += [
        (f"components/responses/{name}", r)
        for name, r in (doc.get("components", {}).get("responses") or {}).items()
        if isinstance(r, dict) and "x-error-codes" in r
    ]
    changed = []
    for where, node in targets:
        codes = list(node.get("x-error-codes") or [])
        if wanted is not None and where not in wanted:
            continue
        if like is not None and like not in codes:
            continue
        if wanted is None and like is None and remove is None:
            continue
        if add and add not in codes:
            if where.startswith("components/") and codes and registry[codes[0]]["status"] != registry[add]["status"]:
                continue
            codes.append(add)
            changed.append(where)
        if remove and remove in codes:
            codes.remove(remove)
            changed.append(where)
        node["x-error-codes"] = seq(codes)
    print(f"{'added' if add else 'removed'} `{add or remove}`: {', '.join(changed) or 'nowhere'}")


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the file drifted")
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument("--add", metavar="CODE", help="add CODE to `x-error-codes` (with --like or --ops)")
    parser.add_argument("--remove", metavar="CODE", help="remove CODE from `x-error-codes` (all, or --ops)")
    parser.add_argument("--like", metavar="CODE", help="with --add: every operation that lists CODE")
    parser.add_argument("--ops", metavar="ID,...", help="with --add/--remove: these operationIds")
    args = parser.parse_args()
    if args.add and not (args.like or args.ops):
        parser.error("--add needs --like CODE or --ops ID,...")
    if (args.add or args.remove) and args.check:
        parser.error("--check edits nothing")

    registry = load_registry()
    original = args.spec.read_text(encoding="utf-8")
    doc = yaml_rt().load(original)
    if args.add or args.remove:
        edit_codes(doc, registry, add=args.add, remove=args.remove, like=args.like, ops=args.ops)
    errors: list[str] = []
    regenerate(doc, registry, errors)
    result = dump(doc)

    if args.check:
        drifted = result != original
        if drifted:
            diff = list(
                difflib.unified_diff(
                    original.splitlines(), result.splitlines(), str(args.spec), "regenerated", lineterm="", n=2
                )
            )
            print("\n".join(diff[:120]))
            if len(diff) > 120:
                print(f"... ({len(diff) - 120} more diff lines)")
            print(
                f"\n{args.spec}: error responses or the ErrorCode catalogue do not match `x-error-codes`; "
                "run `python3 api-spec/tools/error_codes.py`",
                file=sys.stderr,
            )
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        if not drifted and not errors:
            count = sum(1 for _ in operations(doc))
            print(f"{args.spec.name}: x-error-codes, error responses and the ErrorCode catalogue agree "
                  f"({count} operations, {len(registry)} codes)")
        return 1 if drifted or errors else 0

    if result != original:
        args.spec.write_text(result, encoding="utf-8")
        print(f"{args.spec}: regenerated")
    else:
        print(f"{args.spec}: already up to date")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
