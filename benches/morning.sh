#!/usr/bin/env bash
# One officer's morning as the mini-program does it with the SDK — refresh the session, the home
# screen (GET /me/today), sign in, file the day's report with a problem — against a release build
# on the demo city, with the headers a phone sends (WeChat's user agent and referer). Prints each
# round trip's bytes on the wire (request line and headers, request body, response headers,
# response body, as curl counts them) and time, the totals, and the home screen again with its
# ETag (a 304). The p99 of each step under the morning peak comes from benches/run.sh.
# Usage: benches/morning.sh           (numbers go to docs/performance.md by hand)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
db=zhuqi_bench_morning port=18083 prefix="benchmorning:"
source benches/server.sh
start_demo_server "$db" "$port" "$prefix"
base="http://127.0.0.1:$port/api/v1"
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }
# What wx.request adds to every request on a phone.
phone=(-H 'User-Agent: Mozilla/5.0 (Linux; Android 14; V2309A Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160083 MMWEBSDK/20240404 MMWEBID/2307 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64 MiniProgramEnv/android'
       -H 'Referer: https://servicewechat.com/wx1234567890abcdef/12/page-frame.html'
       -H 'Content-Type: application/json' -H 'Accept: */*')
# The demo officer of 中车 signs in once with a password, as a bound phone would have a session.
officer=$(psql -tA "$pg/$db" -c "SELECT u.username FROM users u JOIN assignments a ON a.officer_id = u.id \
  JOIN enterprises e ON e.id = a.enterprise_id WHERE e.name = '中车株洲电力机车有限公司' LIMIT 1")
refresh=$(curl -fs "$base/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"$officer\",\"password\":\"zhuqi-demo-2026\"}" | json 'd["refresh_token"]')

total_bytes=0 total_ms=0 trips=0
# step <name> <curl args…>: one round trip; its body is left in $work/body.
step() {
  local name=$1
  shift
  local out
  # --compressed: Accept-Encoding as wx.request sends it; the sizes are the bytes on the wire.
  out=$(curl -s --compressed -o "$work/body" -w '%{http_code} %{size_request} %{size_upload} %{size_header} %{size_download} %{time_total}' \
    "${phone[@]}" "$@")
  read -r code req up hdr down secs <<< "$out"
  local bytes=$((req + up + hdr + down)) ms
  ms=$(python3 -c "print(round($secs * 1000, 1))")
  printf '%-26s %3s  %5d B out (%d body)  %5d B in (%d body)  %6s ms\n' "$name" "$code" $((req + up)) "$up" $((hdr + down)) "$down" "$ms"
  total_bytes=$((total_bytes + bytes)) trips=$((trips + 1))
  total_ms=$(python3 -c "print(round($total_ms + $ms, 1))")
}

echo "== the morning of $officer (demo city), as a phone sends it"
step "1 refresh" "$base/auth/refresh" -d "{\"refresh_token\":\"$refresh\"}"
access=$(json 'd["access_token"]' < "$work/body")
auth=(-H "Authorization: Bearer $access")
step "2 home screen" "${auth[@]}" "$base/me/today"
read -r enterprise lat lng day < <(json '" ".join(str(x) for x in [d["items"][0]["id"], d["items"][0]["lat"], d["items"][0]["lng"], d["day"]])' < "$work/body")
step "3 sign-in" "${auth[@]}" -H "Idempotency-Key: $(uuid)" "$base/sign-ins" \
  -d "{\"enterprise_id\":\"$enterprise\",\"lat\":$lat,\"lng\":$lng,\"accuracy_m\":18}"
step "4 daily report + problem" "${auth[@]}" -H "Idempotency-Key: $(uuid)" -X PUT "$base/daily-reports/$enterprise/$day" \
  -d '{"work_done":"走访总装车间，了解订单和用工情况","production":{"status":"partial","capacity_pct":85,"staff_on_duty":1200,"staff_total":1350,"staff_shortage":40},"difficulties":"熟练焊工短缺","problems":[{"description":"急需熟练焊工三十名，请人社部门协助对接职业院校"}]}'
echo "== total: $trips round trips, $total_bytes bytes on the wire, $total_ms ms"
echo "== the home screen again, unchanged since the report (If-None-Match)"
etag=$(curl -s -D - -o /dev/null "${auth[@]}" "$base/me/today" | tr -d '\r' | sed -n 's/^etag: //Ip')
step "home screen, unchanged" "${auth[@]}" -H "If-None-Match: $etag" "$base/me/today"
