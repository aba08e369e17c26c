"""Schemathesis hooks of `make fuzz` (loaded through SCHEMATHESIS_HOOKS by scripts/fuzz/driver.py).

The run's context is the JSON file named by FUZZ_CONTEXT, written by the driver:
  base_url        the server under test
  login_ip        the address the harness's own sign-ins claim (X-Forwarded-For; the server trusts
                  127.0.0.1 as a proxy), so the fuzzer spending 127.0.0.1's failed-login budget
                  never locks the harness out
  accounts        role -> {username, password, token}; token is the access token the driver got
                  before fuzzing, used first
  actor           the role every operation runs as, unless
  actors          operationId -> role (the lifecycle run: officer files, dispatcher triages, ...)
  protected_ids   user ids the admin run must not deactivate, re-role or re-password (the
                  harness's own accounts): such an id in a path is swapped for a random one
  protected_ops   the operationIds that protection applies to
  fresh_keys      true: every request gets an Idempotency-Key of its own (the lifecycle run, where
                  a generated key used twice would only answer 422 `idempotency.key_reused`)
"""

from __future__ import annotations

import io
import json
import os
import threading
import uuid
import zipfile
from collections.abc import MutableMapping

import requests

import schemathesis

with open(os.environ["FUZZ_CONTEXT"], encoding="utf-8") as _fd:
    CTX = json.load(_fd)

_lock = threading.Lock()
_fresh = {role: account.get("token") for role, account in CTX["accounts"].items()}
PROTECTED_IDS = frozenset(CTX.get("protected_ids", []))
PROTECTED_OPS = frozenset(CTX.get("protected_ops", []))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def operation_id(operation) -> str:
    raw = getattr(operation.definition, "raw", None) or {}
    return raw.get("operationId", "")


def actor_of(case, _context=None) -> str:
    return CTX.get("actors", {}).get(operation_id(case.operation), CTX["actor"])


def login(role: str) -> str:
    account = CTX["accounts"][role]
    response = requests.post(
        CTX["base_url"] + "/api/v1/auth/login",
        json={"username": account["username"], "password": account["password"]},
        headers={"X-Forwarded-For": CTX["login_ip"]},
        timeout=30,
    )
    if response.status_code != 200:
        raise RuntimeError(f"sign-in of {account['username']} failed: {response.status_code} {response.text[:300]}")
    return response.json()["access_token"]


# One token per role, kept for the run and fetched again (a new sign-in) when a request with it gets
# 401: a session the run itself ended (a logout or password change of the session run's user, an
# admin changing a user's scope) comes back instead of turning every later request into a 401.
@schemathesis.auth(refresh_interval=24 * 3600, cache_by_key=actor_of)
class RoleAuth:
    def get(self, case, context):
        role = actor_of(case)
        with _lock:
            token = _fresh.pop(role, None)
        return token or login(role)

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(context, case, kwargs):
    if CTX.get("fresh_keys") and isinstance(case.headers, MutableMapping):
        for name in list(case.headers):
            if name.lower() == "idempotency-key":
                case.headers[name] = str(uuid.uuid4())
    # The admin run must not end the sessions the harness depends on (its own included).
    if operation_id(case.operation) in PROTECTED_OPS and isinstance(case.path_parameters, MutableMapping):
        if case.path_parameters.get("id") in PROTECTED_IDS:
            case.path_parameters["id"] = str(uuid.uuid4())


@schemathesis.hook
def after_call(context, case, response):
    # The session run's user changing its own password: sign in with the new one from now on.
    if operation_id(case.operation) == "me_password_put" and response.status_code == 200:
        body = case.body if isinstance(case.body, dict) else {}
        if isinstance(body.get("new_password"), str):
            with _lock:
                CTX["accounts"][actor_of(case)]["password"] = body["new_password"]


# The roster import accepts `application/csv` like `text/csv`: send the generated text as is; and
# a workbook body as the bytes generated for it.
schemathesis.serializer.alias("application/csv", "text/plain")
schemathesis.serializer.alias(XLSX, "application/octet-stream")


@schemathesis.deserializer(XLSX)
def xlsx(ctx, response):
    """A workbook is valid when it is a zip holding an Office Open XML workbook."""
    content = response.content
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            names = set(book.namelist())
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not an XLSX workbook ({len(content)} bytes, starting {content[:16]!r}): {exc}") from None
    if "xl/workbook.xml" not in names:
        raise ValueError(f"a zip without xl/workbook.xml: {sorted(names)[:10]}")
    return f"<xlsx workbook, {len(content)} bytes>"
