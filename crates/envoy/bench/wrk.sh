#!/usr/bin/env bash
# Throughput of the filter inside Envoy: wrk through three listeners of one Envoy (no signing,
# the native aws_request_signing filter, this filter), configured alike, in front of a second
# Envoy that answers every request at once, for two request mixes. Prints requests/s, latency
# percentiles and the signing Envoy's CPU seconds per 10k requests for each, and our ratio to
# the native filter. The machine is shared and noisy: each mix runs in ROUNDS rounds that take
# the listeners in turn, and the figures are the medians over the rounds.
# Usage: crates/envoy/bench/wrk.sh ENVOY FILTER_WASM [SECONDS] [ROUNDS]  (`make bench-envoy`)
set -euo pipefail
envoy=$1 wasm=$(realpath "$2") seconds=${3:-5} rounds=${4:-3}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
upstream=$(free_port) plain=$(free_port) native=$(free_port) ours=$(free_port)

listener() { # port, name, http filters (YAML, indented 10)
  cat <<EOF
  - address: {socket_address: {address: 127.0.0.1, port_value: $1}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: $2
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{match: {prefix: "/"}, route: {cluster: upstream}}]
          http_filters:
$3
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
EOF
}

akid=AKIDEXAMPLE secret=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
token=IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampletoken
keys="\"access_key_id\": \"$akid\", \"secret_access_key\": \"$secret\", \"session_token\": \"$token\""
native_filter="          - name: envoy.filters.http.aws_request_signing
            typed_config:
              \"@type\": type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning
              service_name: s3
              region: us-east-1
              match_excluded_headers: [{exact: user-agent}]
              credential_provider: {inline_credential: {$keys}}"
our_filter="          - name: envoy.filters.http.wasm
            typed_config:
              \"@type\": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: sigv4
                allow_on_headers_stop_iteration: true
                configuration:
                  \"@type\": type.googleapis.com/google.protobuf.StringValue
                  value: '{\"service_name\": \"s3\", \"region\": \"us-east-1\", \"credential_provider\": {\"inline_credential\": {$keys}}}'
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: {local: {filename: \"$wasm\"}}"

cat > "$work/upstream.yaml" <<EOF
static_resources:
  listeners:
  - address: {socket_address: {address: 127.0.0.1, port_value: $upstream}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: upstream
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{match: {prefix: "/"}, direct_response: {status: 200, body: {inline_string: "ok"}}}]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
EOF
{
  echo "static_resources:"
  echo "  listeners:"
  listener "$plain" plain ""
  listener "$native" native "$native_filter"
  listener "$ours" ours "$our_filter"
  cat <<EOF
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 2s
    load_assignment:
      cluster_name: upstream
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $upstream}}}}]}]
EOF
} > "$work/proxy.yaml"

"$envoy" -c "$work/upstream.yaml" --concurrency 2 -l error --base-id 7101 >"$work/upstream.log" 2>&1 &
pids+=($!)
"$envoy" -c "$work/proxy.yaml" --concurrency 1 -l error --base-id 7102 >"$work/proxy.log" 2>&1 &
proxy=$!
pids+=($proxy)
for port in $upstream $plain $native $ours; do
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done

# Two request mixes: S3 GETs with a query; and those alternating with PUTs of a 1 KiB body
# (hashed by both filters).
cat > "$work/get.lua" <<'EOF'
request = function()
  return wrk.format("GET", "/bucket?list-type=2&prefix=logs%2F2026", nil, nil)
end
EOF
cat > "$work/mix.lua" <<'EOF'
local body = string.rep("x", 1024)
local n = 0
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("PUT", "/bucket/some%20key.txt", {["content-type"] = "application/octet-stream"}, body)
  end
  return wrk.format("GET", "/bucket?list-type=2&prefix=logs%2F2026", nil, nil)
end
EOF

cpu() { awk '{print $14 + $15}' "/proc/$proxy/stat"; }
ticks=$(getconf CLK_TCK)
# wrk prints latencies with units (us, ms, s): in ms.
ms() { awk -v v="$1" 'BEGIN {u = v; sub(/^[0-9.]+/, "", u); n = v + 0; printf "%.2f", u == "us" ? n / 1000 : u == "s" ? n * 1000 : n}'; }
median() { tr ' ' '\n' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
run() { # lua script, title
  local -A rps cpu p50 p90 p99 non2xx
  echo "== $2 (medians of $rounds rounds of ${seconds}s)"
  for name in plain native ours; do
    wrk -t2 -c32 -d2s -s "$work/$1" "http://127.0.0.1:${!name}" >/dev/null  # warm up
  done
  for round in $(seq "$rounds"); do
    for name in plain native ours; do
      before=$(cpu)
      out=$(wrk -t2 -c32 -d"${seconds}s" --latency -s "$work/$1" "http://127.0.0.1:${!name}")
      after=$(cpu)
      requests=$(awk '/requests in/ {print $1}' <<<"$out")
      rps[$name]+=" $(awk '/Requests\/sec/ {print $2}' <<<"$out")"
      non2xx[$name]=$(( ${non2xx[$name]:-0} + $(awk '/Non-2xx/ {n = $NF} END {print n + 0}' <<<"$out") ))
      read -r a b c < <(awk '/^ +50%/ {a=$2} /^ +90%/ {b=$2} /^ +99%/ {c=$2} END {print a, b, c}' <<<"$out")
      p50[$name]+=" $(ms "$a")" p90[$name]+=" $(ms "$b")" p99[$name]+=" $(ms "$c")"
      cpu[$name]+=" $(awk -v t=$((after - before)) -v hz="$ticks" -v n="$requests" 'BEGIN {printf "%.3f", t / hz / n * 10000}')"
    done
    awk -v o="${rps[ours]##* }" -v n="${rps[native]##* }" \
      'BEGIN {printf "  round: ours / native throughput %.2fx\n", o / n}'
  done
  local -A med
  for name in plain native ours; do
    med[$name]=$(median <<<"${rps[$name]# }")
    printf '%-7s %9s req/s  latency p50 %sms  p90 %sms  p99 %sms  CPU %s s per 10k requests  non-2xx %s\n' \
      "$name" "${med[$name]}" "$(median <<<"${p50[$name]# }")" "$(median <<<"${p90[$name]# }")" \
      "$(median <<<"${p99[$name]# }")" "$(median <<<"${cpu[$name]# }")" "${non2xx[$name]}"
  done
  awk -v o="${med[ours]}" -v n="${med[native]}" -v p="${med[plain]}" \
    'BEGIN {printf "ours / native throughput: %.2fx (native / no signing %.2fx, ours / no signing %.2fx)\n", o / n, n / p, o / p}'
}
run get.lua "GET with a query"
run mix.lua "GET with a query and PUT with a 1 KiB body, alternating"
