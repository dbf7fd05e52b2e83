#!/usr/bin/env bash
# The credential server under load, on one core: wrk (64 connections, on the other core) against
# /healthz and against the IMDSv2 credentials route with a valid session token, in ROUNDS rounds
# that take the two in turn; the figures are the medians over the rounds. Then the start-up time:
# from spawning the server to its first 200 on /healthz, over STARTS starts.
# The server serves static keys from its chain (AWS_ACCESS_KEY_ID/SECRET in its environment, no
# role: nothing upstream, no moto). Its JSON line per request goes to /dev/null (every route logs,
# /healthz too, so the ratio is fair; a file or a pipe costs each request a write more).
# Goals: credentials / healthz throughput >= 0.8, credentials p99 < 2 ms, start-up < 50 ms.
# Usage: crates/credential-server/bench/wrk.sh SIGV4 [SECONDS] [ROUNDS] [STARTS]
#   (`make bench-credential-server`, a part of `make bench`)
set -euo pipefail
sigv4=$(realpath "$1") seconds=${2:-10} rounds=${3:-3} starts=${4:-20}
work=$(mktemp -d)
server=
trap 'test -z "$server" || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Nothing of this machine's: only the static keys, and no instance metadata service to ask.
server_env=(env -i "PATH=$PATH" "HOME=$work" "AWS_CONFIG_FILE=$work/none"
  "AWS_SHARED_CREDENTIALS_FILE=$work/none" AWS_ACCESS_KEY_ID=AKIDEXAMPLE
  AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY AWS_REGION=us-east-1
  AWS_EC2_METADATA_DISABLED=true)
port=$(free_port)
base="http://127.0.0.1:$port"
"${server_env[@]}" taskset -c 0 "$sigv4" credential-server --bind-address "127.0.0.1:$port" \
  --iam-role bench 2>/dev/null &
server=$!
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/healthz" >/dev/null || { echo "the server did not answer /healthz" >&2; exit 1; }
echo "server: pid $server, $(taskset -cp "$server" | sed 's/.*: /CPUs /'), $(ls "/proc/$server/task" | wc -l) threads; wrk on CPU 1"
token=$(curl -sf -X PUT -H 'x-aws-ec2-metadata-token-ttl-seconds: 21600' "$base/latest/api/token")
credentials=/latest/meta-data/iam/security-credentials/bench
document=$(curl -sf -H "x-aws-ec2-metadata-token: $token" "$base$credentials")
grep -q '"AccessKeyId":"AKIDEXAMPLE"' <<<"$document" || { echo "no credentials: $document" >&2; exit 1; }

# wrk prints latencies with units (us, ms, s): in ms.
ms() { awk -v v="$1" 'BEGIN {u = v; sub(/^[0-9.]+/, "", u); n = v + 0; printf "%.3f", u == "us" ? n / 1000 : u == "s" ? n * 1000 : n}'; }
median() { tr ' ' '\n' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
bench() { # seconds, name, path, wrk options
  local out
  out=$(taskset -c 1 wrk -t1 -c64 -d"$1s" --latency "${@:4}" "$base$3")
  if grep -q 'Non-2xx' <<<"$out"; then echo "$2: non-2xx answers:" >&2; echo "$out" >&2; exit 1; fi
  rps[$2]+=" $(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  read -r a b < <(awk '/^ +50%/ {a=$2} /^ +99%/ {b=$2} END {print a, b}' <<<"$out")
  p50[$2]+=" $(ms "$a")" p99[$2]+=" $(ms "$b")"
}
declare -A rps p50 p99
header="x-aws-ec2-metadata-token: $token"
bench 2 warmup /healthz
bench 2 warmup "$credentials" -H "$header"
unset 'rps[warmup]' 'p50[warmup]' 'p99[warmup]'
echo "== wrk -t1 -c64, ${seconds}s, medians of $rounds rounds"
for round in $(seq "$rounds"); do
  bench "$seconds" healthz /healthz
  bench "$seconds" credentials "$credentials" -H "$header"
  awk -v c="${rps[credentials]##* }" -v h="${rps[healthz]##* }" \
    'BEGIN {printf "  round: healthz %.0f req/s, credentials %.0f req/s, ratio %.3f\n", h, c, c / h}'
done
declare -A med
for name in healthz credentials; do
  med[$name]=$(median <<<"${rps[$name]# }")
  printf '%-11s %9s req/s  latency p50 %s ms  p99 %s ms\n' "$name" "${med[$name]}" \
    "$(median <<<"${p50[$name]# }")" "$(median <<<"${p99[$name]# }")"
done
awk -v c="${med[credentials]}" -v h="${med[healthz]}" -v p="$(median <<<"${p99[credentials]# }")" \
  'BEGIN {r = c / h; ratio = (r >= 0.8) ? "met" : "NOT met"; latency = (p < 2) ? "met" : "NOT met"
    printf "credentials / healthz throughput: %.3f (goal >= 0.8: %s); credentials p99 %s ms (goal < 2 ms: %s)\n", r, ratio, p, latency}'
kill "$server"
wait "$server" 2>/dev/null || true
server=

# Start-up: spawn (on CPU 0, as above) to the first 200 on /healthz, polled over a fresh
# connection every ~0.2 ms; and to the first credentials document (IMDSv2 token, then the role).
echo "== start-up, $starts starts"
"${server_env[@]}" python3 - "$sigv4" "$starts" <<'EOF'
import os, socket, statistics, subprocess, sys, time

sigv4, starts = sys.argv[1], int(sys.argv[2])

def get(port, request):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(request)
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
            return answer
    except OSError:
        return b""

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

ready, served = [], []
for _ in range(starts):
    port = free_port()
    healthz = b"GET /healthz HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
    started = time.perf_counter()
    child = subprocess.Popen([sigv4, "credential-server", "--bind-address", f"127.0.0.1:{port}",
                              "--iam-role", "bench"], stderr=subprocess.DEVNULL,
                             preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    try:
        while not get(port, healthz).startswith(b"HTTP/1.1 200"):
            if child.poll() is not None or time.perf_counter() - started > 10:
                sys.exit(f"the server did not answer /healthz: {child.poll()}")
            time.sleep(0.0002)
        ready.append((time.perf_counter() - started) * 1000)
        token = get(port, b"PUT /latest/api/token HTTP/1.1\r\nHost: b\r\nConnection: close\r\n"
                          b"x-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n").split(b"\r\n\r\n", 1)[1]
        document = get(port, b"GET /latest/meta-data/iam/security-credentials/bench HTTP/1.1\r\n"
                             b"Host: b\r\nConnection: close\r\nx-aws-ec2-metadata-token: " + token + b"\r\n\r\n")
        assert b"AKIDEXAMPLE" in document, document
        served.append((time.perf_counter() - started) * 1000)
    finally:
        child.terminate()
        child.wait(timeout=10)

def figures(values):
    return f"median {statistics.median(values):.1f} ms, min {min(values):.1f}, max {max(values):.1f}"

print(f"spawn to the first 200 on /healthz: {figures(ready)} "
      f"(goal < 50 ms: {'met' if max(ready) < 50 else 'median met' if statistics.median(ready) < 50 else 'NOT met'})")
print(f"spawn to the first credentials document: {figures(served)}")
EOF
