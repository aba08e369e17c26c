#!/usr/bin/env bash
# An assignment meeting (交办会) of N problems (default 500) against a release build on the demo
# city: the problems are filed through the API by the demo officers, then one dispatcher holds
# the meeting — every item triaged and assigned to a lead department, every third with two
# co-handlers — and downloads every department's 交办单. Prints the meeting's and the sheets'
# wall time and sizes (numbers go to docs/performance.md by hand).
# Usage: benches/meeting.sh [problems]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
n=${1:-500}
db=zhuqi_bench_meeting port=18084 prefix="benchmeeting:"
source benches/server.sh
start_demo_server "$db" "$port" "$prefix"
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

BASE="http://127.0.0.1:$port/api/v1" PG="$pg/$db" N=$n WORK=$work python3 - <<'PY'
import json, os, subprocess, time, urllib.request

base, n, work = os.environ["BASE"], int(os.environ["N"]), os.environ["WORK"]

def call(method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return r.status, r.read(), r.headers

def login(user):
    _, body, _ = call("POST", "/auth/login", body={"username": user, "password": "zhuqi-demo-2026"})
    return json.loads(body)["access_token"]

def psql(sql):
    return subprocess.run(["psql", "-tA", os.environ["PG"], "-c", sql], capture_output=True, text=True, check=True).stdout.split()

# The officers of the demo city and their enterprises, filing in turn.
pairs = psql("SELECT u.username || ',' || a.enterprise_id FROM assignments a JOIN users u ON u.id = a.officer_id WHERE a.end_day IS NULL ORDER BY u.username, a.enterprise_id")
tokens = {}
ids = []
for i in range(n):
    user, enterprise = pairs[i % len(pairs)].split(",")
    token = tokens.get(user) or tokens.setdefault(user, login(user))
    _, body, _ = call("POST", "/problems", token, {"enterprise_id": enterprise, "description": f"第{i}号问题：园区道路破损，货车通行困难，请协调修复"})
    ids.append(json.loads(body)["id"])
departments = psql("SELECT id FROM units WHERE kind = 'department' AND region_code = '430200' ORDER BY code")
dispatcher = login("hub.dispatcher")
items = []
for i, pid in enumerate(ids):
    lead = departments[i % len(departments)]
    co = [{"department_id": d} for d in departments if d != lead][:2] if i % 3 == 0 else []
    items.append({"problem_id": pid, "category": "utilities", "department_id": lead, "co_handlers": co, "instructions": "请三个工作日内联系企业，按时限办结并反馈"})
start = time.perf_counter()
status, body, _ = call("POST", "/hub/assignments", dispatcher, {"title": "基准交办会", "items": items})
meeting_s = time.perf_counter() - start
held = json.loads(body)
assert status == 201 and held["item_count"] == n, (status, body[:300])
start = time.perf_counter()
status, sheets, _ = call("GET", f"/hub/assignments/{held['id']}/sheets.xlsx", dispatcher)
sheets_s = time.perf_counter() - start
assert status == 200
print(f"meeting of {n} problems ({sum(1 for i in items if i['co_handlers'])} with 2 co-handlers), {len(json.dumps(items)) // 1024} KB body: {meeting_s * 1000:.0f} ms")
print(f"交办单 of {len(held['sheets'])} departments: {len(sheets) // 1024} KB in {sheets_s * 1000:.0f} ms")
print(f"together: {(meeting_s + sheets_s):.2f} s; numbers {held['items'][0]['number']} … {held['items'][-1]['number']}")
PY
