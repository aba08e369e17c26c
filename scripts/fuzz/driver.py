"""The fuzzing half of `make fuzz`: signs in the harness's accounts, learns the seeded ids, and runs
schemathesis once per run below against the server scripts/fuzz.sh started; exits 1 when any run
found a failure or an error.

Environment (all optional):
  FUZZ_BASE_URL      the server (default http://127.0.0.1:18380)
  FUZZ_SECONDS       the time budget of all runs together, shared out by each run's weight (360)
  FUZZ_MAX_EXAMPLES  test cases per operation and pass of the fuzzing and stateful phases (25)
  FUZZ_RUNS          a comma-separated subset of the runs, e.g. `lifecycle,admin` (all)
  FUZZ_SEED          schemathesis's seed, to replay a run (random)
  FUZZ_WORKERS       concurrent schemathesis workers (1: Python 3.11's ast.parse is not thread-safe,
                     and hypothesis calls it while generating: with 2 workers a run now and then dies
                     with "SystemError: AST constructor recursion depth mismatch", CPython gh-106905)
  FUZZ_OUT           where each run's output and reports go (.local/fuzz)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
BASE_URL = os.environ.get("FUZZ_BASE_URL", "http://127.0.0.1:18380")
SECONDS = int(os.environ.get("FUZZ_SECONDS", "360"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
SEED = os.environ.get("FUZZ_SEED", "")
WORKERS = os.environ.get("FUZZ_WORKERS", "1")
OUT = Path(os.environ.get("FUZZ_OUT", ".local/fuzz")).resolve()
PASSWORD = "zhuqi-demo-2026"  # every demo login's (src/demo/mod.rs)
# The harness's own sign-ins come from this address (X-Forwarded-For; fuzz.sh makes the server
# trust 127.0.0.1 as a proxy); the fuzzer's failed logins spend 127.0.0.1's budget instead.
LOGIN_IP = "192.0.2.10"

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
]

# role -> demo username (data/demo/users.csv). `session` is a sixth account for the session run.
ACCOUNTS = {
    "admin": "demo.admin",
    "dispatcher": "hub.dispatcher",
    "department": "gdgs.clerk",
    "officer": "officer.zhang",
    "enterprise": "qianjin.contact",
    "session": "officer.li",
}

# Operations that end the caller's own session (every access token of the user) and, through the
# spec's example, change the demo password: fuzzed only in the session run, with its own user.
SESSION_OPS = ["me_password_put", "auth_logout", "auth_refresh", "me_get"]

# The problem lifecycle, each action as the role that may take it (the spec's lifecycle table).
LIFECYCLE_ACTORS = {
    # Producers of enterprise ids: without one among the selected operations schemathesis takes
    # POST /api/v1/problems for a step that needs data from elsewhere and never starts a chain there.
    "me_enterprises_list": "officer",
    "enterprise_get": "officer",
    "problem_create": "officer",
    "problem_get": "dispatcher",
    "problem_triage": "dispatcher",
    "problem_merge": "dispatcher",
    "problem_assign": "dispatcher",
    "problem_accept": "department",
    "problem_return": "department",
    "problem_extension_request": "department",
    "problem_extension_approve": "dispatcher",
    "problem_extension_refuse": "dispatcher",
    "problem_respond": "department",
    "problem_resolve_on_site": "officer",
    "problem_evaluate": "officer",
    "problem_close": "dispatcher",
}

# Admin operations on a user that end that user's sessions (deactivation, new roles or scope, new
# password, new invite code): never aimed at the harness's own accounts.
PROTECTED_OPS = ["admin_user_update", "admin_user_password_put", "admin_user_invite_reissue"]


@dataclass
class Run:
    name: str
    actor: str
    weight: int
    phases: str = "examples,coverage,fuzzing,stateful"
    include: list[str] = field(default_factory=list)  # operationIds; empty = all
    exclude: list[str] = field(default_factory=list)
    actors: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, dict] = field(default_factory=dict)  # binding key -> {dictionary, probability}
    mode: str = "all"  # positive, negative or all
    fresh_keys: bool = False  # a new Idempotency-Key on every request (hooks.py)


def runs(ids: dict) -> list[Run]:
    """The runs, in order: the admin's last, so whatever it changes in the roster (scopes,
    categories, the calendar) cannot spoil the others."""

    def bind(name, probability):
        return {"dictionary": name, "probability": probability}

    return [
        Run(
            "officer",
            "officer",
            50,
            exclude=SESSION_OPS[:1],
            parameters={
                "body.enterprise_id": bind("officer_enterprises", 0.6),
                "path.enterprise_id": bind("officer_enterprises", 0.6),
                "query.enterprise_id": bind("officer_enterprises", 0.3),
            },
        ),
        Run(
            "enterprise",
            "enterprise",
            35,
            exclude=SESSION_OPS[:1],
            parameters={
                "body.enterprise_id": bind("own_enterprise", 0.6),
                "path.enterprise_id": bind("own_enterprise", 0.5),
            },
        ),
        Run(
            "department",
            "department",
            35,
            exclude=SESSION_OPS[:1],
            parameters={"path.id": bind("problems", 0.5)},
        ),
        Run(
            "dispatcher",
            "dispatcher",
            55,
            exclude=SESSION_OPS[:1],
            parameters={
                "path.id": bind("problems", 0.5),
                "body.into_id": bind("problems", 0.5),
                "body.department_id": bind("departments", 0.6),
                "body.category": bind("categories", 0.6),
            },
        ),
        Run(
            "lifecycle",
            "dispatcher",
            60,
            phases="stateful",
            include=list(LIFECYCLE_ACTORS),
            actors=LIFECYCLE_ACTORS,
            # Valid steps with keys of their own get a problem further along its life; the role
            # runs send the malformed requests and the replays.
            mode="positive",
            fresh_keys=True,
            parameters={
                "body.enterprise_id": bind("officer_enterprises", 0.9),
                "body.department_id": bind("gdgs", 0.9),
                "body.category": bind("categories", 0.9),
                "body.into_id": bind("problems", 0.5),
            },
        ),
        Run("session", "session", 15, include=SESSION_OPS),
        Run(
            "admin",
            "admin",
            110,
            exclude=SESSION_OPS[:1],
            parameters={"body.region_code": bind("regions", 0.4), "body.unit_id": bind("units", 0.3)},
        ),
    ]


def log(message: str) -> None:
    print(f"fuzz: {message}", flush=True)


def api(method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, BASE_URL + path, headers=headers, timeout=60, **kwargs)


def get_json(path: str, token: str) -> dict:
    response = api("GET", path, token)
    response.raise_for_status()
    return response.json()


def sign_in(username: str) -> dict:
    response = api(
        "POST",
        "/api/v1/auth/login",
        json={"username": username, "password": PASSWORD},
        headers={"X-Forwarded-For": LOGIN_IP},
    )
    if response.status_code != 200:
        sys.exit(f"fuzz: cannot sign in as {username}: {response.status_code} {response.text[:300]}")
    return response.json()


def all_items(path: str, token: str) -> list[dict]:
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        page = get_json(f"{path}{sep}limit=100" + (f"&cursor={cursor}" if cursor else ""), token)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def seeded_ids(tokens: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """Ids of the seeded demo city, for the dictionaries the runs bind to parameters."""
    me = {role: get_json("/api/v1/me", token) for role, token in tokens.items()}
    admin = tokens["admin"]
    units = all_items("/api/v1/admin/units", admin)
    ids = {
        "officer_enterprises": [e["id"] for e in get_json("/api/v1/me/enterprises", tokens["officer"])["items"]],
        "own_enterprise": [me["enterprise"]["enterprise_id"]],
        "departments": [u["id"] for u in units if u["kind"] == "department"],
        "gdgs": [me["department"]["unit_id"]],
        "units": [u["id"] for u in units],
        "regions": [r["code"] for r in all_items("/api/v1/admin/regions", admin)],
        "categories": [c["code"] for c in get_json("/api/v1/admin/categories", admin)["items"]],
        "problems": [p["id"] for p in all_items("/api/v1/problems", tokens["dispatcher"])],
    }
    return ids, {role: m["id"] for role, m in me.items()}


def toml_value(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string, number or list is valid TOML


def write_config(run: Run, seconds: int, directory: Path, ids: dict) -> Path:
    lines = [
        f"base-url = {toml_value(BASE_URL)}",
        f"max-time = {seconds}",
        f"workers = {WORKERS if WORKERS == 'auto' else int(WORKERS)}",
        f"hooks = {toml_value(str(HERE / 'hooks.py'))}",
        "",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        f"mode = {toml_value(run.mode)}",
        # Data found in one run must not steer the next (a fresh database every time).
        'database = "none"',
        "",
        "[cache]",
        "enabled = false",
        "",
        "[reports]",
        f"directory = {toml_value(str(directory))}",
        "[reports.junit]",
        "enabled = true",
        f"path = {toml_value(str(directory / 'junit.xml'))}",
        "[reports.json]",
        "enabled = true",
        f"path = {toml_value(str(directory / 'report.json'))}",
        "[reports.har]",
        "enabled = true",
        f"path = {toml_value(str(directory / 'requests.har'))}",
        "",
        "[phases.stateful]",
        "max-steps = 20",
        "[phases.stateful.generation]",
        f"mode = {toml_value(run.mode)}",
        "",
    ]
    used = {binding["dictionary"] for binding in run.parameters.values()}
    if run.parameters:
        lines.append("[parameters]")
        for key, binding in run.parameters.items():
            lines.append(
                f"{toml_value(key)} = {{ dictionary = {toml_value(binding['dictionary'])}, "
                f"probability = {binding['probability']} }}"
            )
        lines.append("")
    for name in sorted(used):
        lines += [f"[dictionaries.{name}]", f"values = {toml_value(ids[name])}", ""]
    path = directory / "schemathesis.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def st_command(run: Run, config: Path) -> list[str]:
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(config),
        "run",
        f"{BASE_URL}/api-spec/openapi.yaml",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        run.phases,
        "--no-color",
        "--output-truncate",
        "false",
    ]
    if SEED:
        command += ["--seed", SEED]
    for operation in run.include:
        command += ["--include-operation-id", operation]
    for operation in run.exclude:
        command += ["--exclude-operation-id", operation]
    return command


def summarize(directory: Path) -> dict:
    report = directory / "report.json"
    if not report.exists():
        return {"exit_code": None, "failures": [], "errors": [], "test_cases": {}}
    data = json.loads(report.read_text(encoding="utf-8"))
    return data


def tally(directory: Path) -> int:
    """Writes statuses.tsv (requests per operation, status and error code, from requests.har) and
    returns how many requests succeeded (2xx): what the run reached, beyond what it found."""
    har = directory / "requests.har"
    if not har.exists():
        return 0
    counts: dict[tuple[str, str, int, str], int] = {}
    for entry in json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]:
        request, response = entry["request"], entry["response"]
        path = requests.utils.urlparse(request["url"]).path
        # Ids and other generated path segments as {…}, so that each operation is one line.
        path = "/".join(
            "{…}" if re.fullmatch(r"[0-9a-f-]{36}|[0-9]+|.*%.*", part) else part for part in path.split("/")
        )
        code = ""
        try:
            code = json.loads(response["content"].get("text") or "null")["error"]["code"]
        except (ValueError, TypeError, KeyError):
            pass
        key = (request["method"], path, response["status"], code)
        counts[key] = counts.get(key, 0) + 1
    lines = ["count\tmethod\tpath\tstatus\terror.code"]
    lines += [f"{n}\t{m}\t{p}\t{st}\t{c}" for (m, p, st, c), n in sorted(counts.items())]
    (directory / "statuses.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sum(n for (_, _, status, _), n in counts.items() if 200 <= status < 300)


def token_alive(token: str) -> bool:
    return api("GET", "/api/v1/me", token).status_code == 200


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    version = subprocess.run(
        [str(Path(sys.executable).parent / "st"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    log(f"{version}; {SECONDS} s over the runs, {MAX_EXAMPLES} examples per operation and pass")

    sessions = {role: sign_in(username) for role, username in ACCOUNTS.items()}
    tokens = {role: s["access_token"] for role, s in sessions.items()}
    ids, user_ids = seeded_ids(tokens)
    log("signed in as " + ", ".join(f"{role} {ACCOUNTS[role]}" for role in ACCOUNTS))

    selected = [r.strip() for r in os.environ.get("FUZZ_RUNS", "").split(",") if r.strip()]
    plan = [run for run in runs(ids) if not selected or run.name in selected]
    unknown = set(selected) - {run.name for run in runs(ids)}
    if unknown:
        sys.exit(f"fuzz: unknown runs in FUZZ_RUNS: {', '.join(sorted(unknown))}")
    total_weight = sum(run.weight for run in plan)

    results = []
    for run in plan:
        seconds = max(5, round(SECONDS * run.weight / total_weight))
        directory = OUT / run.name
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*"):
            if stale.is_file():
                stale.unlink()
        context = {
            "base_url": BASE_URL,
            "login_ip": LOGIN_IP,
            "actor": run.actor,
            "actors": run.actors,
            "accounts": {
                role: {"username": ACCOUNTS[role], "password": PASSWORD, "token": tokens[role]} for role in ACCOUNTS
            },
            "protected_ids": list(user_ids.values()),
            "protected_ops": PROTECTED_OPS,
            "fresh_keys": run.fresh_keys,
        }
        (directory / "context.json").write_text(json.dumps(context, indent=1), encoding="utf-8")
        config = write_config(run, seconds, directory, ids)
        command = st_command(run, config)
        (directory / "command.txt").write_text(" ".join(command) + "\n", encoding="utf-8")
        log(f"run {run.name}: as {run.actor if not run.actors else 'each action’s role'}, {seconds} s, phases {run.phases}")
        env = dict(os.environ, FUZZ_CONTEXT=str(directory / "context.json"), SCHEMATHESIS_HOOKS=str(HERE / "hooks.py"))
        started = time.monotonic()
        with open(directory / "output.txt", "w", encoding="utf-8") as output:
            code = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=directory).returncode
        elapsed = time.monotonic() - started
        report = summarize(directory)
        report["succeeded"] = tally(directory)
        roles = set(run.actors.values()) | {run.actor}
        # A token the run ended is replaced by a new sign-in in hooks.py (the next run's too, on its
        # first 401); say so, it is worth knowing.
        lost = [role for role in sorted(roles) if not token_alive(tokens[role])]
        results.append((run, code, elapsed, report, lost))
        cases, ops = report.get("test_cases", {}), report.get("operations", {})
        failures = ", ".join(f"{f['code']} {f['title']} ×{f['count']}" for f in report.get("failures", []))
        errors = ", ".join(f"{e['title']} ×{e['count']}" for e in report.get("errors", []))
        log(
            f"run {run.name}: exit {code} in {elapsed:.0f} s; {ops.get('tested', '?')} of {ops.get('selected', '?')} "
            f"operations, {cases.get('generated', '?')} cases, {report['succeeded']} requests answered 2xx"
            + (f"; failures: {failures}" if failures else "")
            + (f"; errors: {errors}" if errors else "")
            + (f"; sessions ended during the run: {', '.join(lost)}" if lost else "")
        )
        if code != 0:
            print_failures(directory / "output.txt")

    write_summary(results, version)
    failed = [run.name for run, code, *_ in results if code != 0]
    if failed:
        log(f"FAILED: {', '.join(failed)} (details: {OUT}/<run>/output.txt, summary: {OUT}/summary.md)")
        return 1
    log(f"all {len(results)} runs clean (summary: {OUT}/summary.md)")
    return 0


SECTION = re.compile(r"^=+ (FAILURES|ERRORS) =+$")


def print_failures(output: Path) -> None:
    """Echoes the FAILURES and ERRORS sections of a run's output."""
    show = False
    for line in output.read_text(encoding="utf-8").splitlines():
        if SECTION.match(line):
            show = True
        elif line.startswith("=") and line.endswith("=") and show and not SECTION.match(line):
            show = False
        if show:
            print("    " + line)


def write_summary(results, version: str) -> None:
    lines = [f"# make fuzz — {time.strftime('%Y-%m-%d %H:%M:%S %z')}", "", f"{version}, checks: {', '.join(CHECKS)}", ""]
    lines += ["| run | exit | seconds | cases | 2xx | failures | errors |", "|---|---|---|---|---|---|---|"]
    for run, code, elapsed, report, lost in results:
        failures = "; ".join(
            f"{f['code']} {f['title']} ×{f['count']}: {', '.join(f['operations'])}" for f in report.get("failures", [])
        )
        errors = "; ".join(f"{e['title']} ×{e['count']}" for e in report.get("errors", []))
        lines.append(
            f"| {run.name} | {code} | {elapsed:.0f} | {report.get('test_cases', {}).get('generated', '?')} "
            f"| {report.get('succeeded', '?')} "
            f"| {failures or '—'} | {errors or '—'} |"
        )
    (OUT / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
