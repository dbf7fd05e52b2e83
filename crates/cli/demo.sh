#!/usr/bin/env bash
# The main job, end to end on this machine: the sigv4 CLI (every signature computed inside the
# WebAssembly component) against moto with signature checking on, and s3s-fs for presigned URLs.
# Everything runs on 127.0.0.1 with free ports and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIGV4=${SIGV4:-target/debug/sigv4}
MOTO=.tools/venv/bin/moto_server
S3S_FS=.tools/bin/s3s-fs
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
xml() { grep -o "<$1>[^<]*" | head -1 | cut -d'>' -f2; }

# No credentials from this machine's environment or files: only what the demo sets up.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION
export HOME="$work" AWS_EC2_METADATA_DISABLED=true

step "Starting moto on 127.0.0.1 with signature checking on after 3 set-up calls"
moto_port=$(free_port)
INITIAL_NO_AUTH_ACTION_COUNT=3 "$MOTO" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_for "$moto_port"
moto="http://127.0.0.1:$moto_port"
echo "moto: $moto"

step "Creating an IAM user, its access key and a policy (the 3 calls moto takes unchecked)"
iam() {
  AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap "$SIGV4" send -X POST \
    -H 'content-type: application/x-www-form-urlencoded' -d "$1" --service iam --region us-east-1 "$moto/"
}
iam 'Action=CreateUser&UserName=demo-agent&Version=2010-05-08' | xml Arn
iam 'Action=CreateAccessKey&UserName=demo-agent&Version=2010-05-08' >"$work/key.xml"
policy=$(python3 -c 'import json, urllib.parse; print(urllib.parse.quote(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})))')
iam "Action=PutUserPolicy&UserName=demo-agent&PolicyName=all&PolicyDocument=$policy&Version=2010-05-08" >/dev/null && echo "policy attached"
access_key_id=$(xml AccessKeyId <"$work/key.xml")
secret=$(xml SecretAccessKey <"$work/key.xml")

step "Writing a temporary profile [demo] and pointing AWS_PROFILE at it"
mkdir -p "$work/.aws"
printf '[demo]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$access_key_id" "$secret" >"$work/.aws/credentials"
printf '[profile demo]\nregion = us-east-1\n' >"$work/.aws/config"
export AWS_PROFILE=demo
"$SIGV4" credentials

step "whoami: STS GetCallerIdentity, signed and sent by the agent component (wasi:http), verified by moto"
"$SIGV4" whoami --endpoint-url "$moto/"

step "S3 through the agent component: create a bucket, PUT an object whose key has a space, GET it back"
"$SIGV4" send -i -X PUT --service s3 "$moto/demo-bucket" | head -1
"$SIGV4" send -i -X PUT -H 'content-type: application/octet-stream' -d 'hello from the component' \
  --service s3 "$moto/demo-bucket/notes/hello%20world.txt" | head -1
"$SIGV4" send --service s3 "$moto/demo-bucket/notes/hello%20world.txt"; echo

step "A cloud-auth proof: the signed GetCallerIdentity request as JSON, audience bound in"
"$SIGV4" proof --endpoint-url "$moto/" --audience demo.example.com | python3 -m json.tool

step "A tampered request: the same GET signed with a wrong secret"
if AWS_ACCESS_KEY_ID="$access_key_id" AWS_SECRET_ACCESS_KEY="x$secret" AWS_PROFILE= \
  "$SIGV4" send --service s3 --region us-east-1 "$moto/demo-bucket/notes/hello%20world.txt" >"$work/tampered" 2>&1; then
  echo "moto accepted a tampered request" >&2
  exit 1
fi
echo "moto refused it: $(xml Code <"$work/tampered")"

step "Presigned GET fetched with curl, verified by s3s-fs (moto cannot check presigned URLs)"
s3s_port=$(free_port)
mkdir -p "$work/s3/demo-bucket"
"$S3S_FS" --host 127.0.0.1 --port "$s3s_port" --access-key "$access_key_id" --secret-key "$secret" \
  "$work/s3" >"$work/s3s.log" 2>&1 &
pids+=($!)
wait_for "$s3s_port"
s3s="http://127.0.0.1:$s3s_port"
"$SIGV4" send -i -X PUT -H 'content-type: application/octet-stream' -d 'presigned hello' \
  --service s3 "$s3s/demo-bucket/shared%20file.txt" | head -1
url=$("$SIGV4" presign --service s3 --expires 300 "$s3s/demo-bucket/shared%20file.txt")
echo "$url"
echo "curl: $(curl -s -w ' (HTTP %{http_code})' "$url")"
echo "curl with the signature altered: $(curl -s -o /dev/null -w 'HTTP %{http_code}' "${url%?}x")"

step "sigv4 credential-server: boto3 lists the bucket with a role's credentials served as IMDSv2"
# A role any principal may assume, allowed everything; the server assumes it in moto with the
# demo profile's keys and serves it as the EC2 instance metadata service. (Signed calls now: moto
# checks the form as botocore would encode it, so the JSON has no spaces and every byte but
# letters, digits and -._~ is escaped.)
form_json() { python3 -c 'import json, sys, urllib.parse; print(urllib.parse.quote(json.dumps(json.loads(sys.argv[1]), separators=(",", ":")), safe=""))' "$1"; }
trust=$(form_json '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}')
allow_all=$(form_json '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')
iam_signed() {
  "$SIGV4" send -X POST -H 'content-type: application/x-www-form-urlencoded' -d "$1&Version=2010-05-08" \
    --service iam "$moto/"
}
role_arn=$(iam_signed "Action=CreateRole&RoleName=demo-reader&AssumeRolePolicyDocument=$trust" | xml Arn)
iam_signed "Action=PutRolePolicy&RoleName=demo-reader&PolicyName=all&PolicyDocument=$allow_all" >/dev/null
echo "role: $role_arn"
cs_port=$(free_port)
AWS_ENDPOINT_URL_STS="$moto" "$SIGV4" credential-server --bind-address "127.0.0.1:$cs_port" \
  --role-arn "$role_arn" --role-session-name demo 2>"$work/credential-server.log" &
cs_pid=$!
pids+=($cs_pid)
wait_for "$cs_port"
echo "credential server: http://127.0.0.1:$cs_port ($(curl -s "http://127.0.0.1:$cs_port/healthz"))"
# boto3 with no credentials of its own: no profile, no files, only the metadata endpoint.
env -u AWS_PROFILE AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none" \
  AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$cs_port/" \
  AWS_ENDPOINT_URL="$moto" AWS_DEFAULT_REGION=us-east-1 .tools/venv/bin/python -c '
import boto3
session = boto3.session.Session()
listed = session.client("s3").list_objects_v2(Bucket="demo-bucket")
print("boto3 lists demo-bucket:", [o["Key"] for o in listed["Contents"]])
credentials = session.get_credentials()
print("its credentials:", credentials.method, credentials.access_key[:4] + "...")
print("STS says it is:", session.client("sts").get_caller_identity()["Arn"])
'
echo "the server's log (a JSON line per request, no secrets):"
python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if "path" in e: print("  %s %s -> %s (%s)" % (e["method"], e["path"], e["status"], e["user_agent"].split(" ")[0]))' \
  "$work/credential-server.log"
curl -s "http://127.0.0.1:$cs_port/metrics" | grep -E '^credential_server_(requests_total\{route="credentials"|refreshes_total)'
kill -TERM "$cs_pid" && wait "$cs_pid"
kept=(); for pid in "${pids[@]}"; do [ "$pid" = "$cs_pid" ] || kept+=("$pid"); done; pids=("${kept[@]}")
echo "stopped on SIGTERM: $(tail -1 "$work/credential-server.log")"

step "sigv4 exchange-server (SQLite): a proof logs in, an agent enrolls, is revoked"
ex_port=$(free_port)
admin_token=demo-admin-token
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/master.key"
"$SIGV4" exchange-server --bind-address "127.0.0.1:$ex_port" --database "sqlite://$work/exchange.db" \
  --sts-endpoint "$moto" --audience-header X-Intake-Id --audience intake.demo \
  --binding 'arn:aws:iam::123456789012:user/*=demo-org' \
  --admin-token-sha256 "$(printf %s "$admin_token" | sha256sum | cut -c1-64)" \
  --master-key-file "$work/master.key" 2>"$work/exchange.log" &
ex_pid=$!
pids+=($ex_pid)
wait_for "$ex_port"
ex="http://127.0.0.1:$ex_port"
"$SIGV4" proof --audience intake.demo --audience-header X-Intake-Id --endpoint-url "$moto/" >"$work/proof.json"
echo "login with the proof:  $(curl -s -d @"$work/proof.json" "$ex/v1/login/aws" | tee "$work/login.json" | python3 -c 'import json, sys; a = json.load(sys.stdin); print(a["arn"], "->", a["organization"], a["api_key"][:6] + "...")')"
echo "the same proof again:  $(curl -s -d @"$work/proof.json" "$ex/v1/login/aws")"
key=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["api_key"])' "$work/login.json")
echo "whoami with its key:   $(curl -s -H "Authorization: ApiKey $key" "$ex/v1/whoami")"
token=$(curl -s -H "Authorization: Bearer $admin_token" -d '{"name":"demo fleet","organization":"demo-org","max_uses":10}' \
  "$ex/v1/admin/enrollment-tokens" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
curl -s -H "Authorization: ApiKey $token" -d '{"agent_id":"demo-agent","key_type":"sigv4"}' "$ex/v1/enroll" >"$work/agent.json"
agent_id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["access_key_id"])' "$work/agent.json")
agent_secret=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["secret_access_key"])' "$work/agent.json")
echo "enrolled with a SigV4 key pair: $agent_id"
agent_whoami() { AWS_ACCESS_KEY_ID="$agent_id" AWS_SECRET_ACCESS_KEY="$agent_secret" AWS_REGION=us-east-1 \
  "$SIGV4" send --service exchange "$ex/v1/whoami" 2>/dev/null || true; }
echo "whoami, signed by the agent: $(agent_whoami)"
curl -s -X DELETE -H "Authorization: Bearer $admin_token" "$ex/v1/admin/agents/demo-agent" >/dev/null
sleep 1.1
echo "after its revocation:        $(agent_whoami)"
kill -TERM "$ex_pid" && wait "$ex_pid"
kept=(); for pid in "${pids[@]}"; do [ "$pid" = "$ex_pid" ] || kept+=("$pid"); done; pids=("${kept[@]}")
echo "its keys table (hashes and access key ids only): $(sqlite3 "$work/exchange.db" "select group_concat(kind || ' ' || substr(lookup, 1, 12) || '...', ', ') from keys")"

step "Done: every request above was signed inside a WebAssembly component (sent by the agent through wasi:http, or by curl); servers stopped"
