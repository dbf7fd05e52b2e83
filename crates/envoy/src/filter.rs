//! The proxy-wasm glue: a root context per worker (configuration, credentials, the signer and its
//! key cache) and an HTTP context per request. Host calls whose failure the SDK would turn into a
//! panic are made through `hostcalls` and their errors handled: a panic would fail the stream and,
//! with Envoy's default failure policy, every later stream on the worker.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};
use sigv4_core::{ChunkEncoder, Signer};

use crate::config::{Config, CredentialSource};
use crate::credentials::{Cache, Fetch, Step};
use crate::header_map::HeaderMap;
use crate::sign::{Body, Edit, chunked_edits, edits, plan, sign, sign_chunked};

fn log(level: LogLevel, message: &str) {
    let _ = hostcalls::log(level, &format!("sigv4: {message}"));
}

fn now() -> u64 {
    now_ms() / 1000
}

/// Unix milliseconds (the credentials cache's refresh policy backs off in milliseconds).
fn now_ms() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    /// The proxy-wasm ABI's call that the SDK's `get_map` wraps: the map, serialized into a
    /// buffer the host allocates through this module's `malloc`.
    fn proxy_get_header_map_pairs(map_type: u32, data: *mut *mut u8, size: *mut usize) -> u32;
}

/// The current request's headers, read in place (see `header_map`).
fn request_headers() -> Result<HeaderMap, String> {
    let mut data = std::ptr::null_mut();
    let mut size = 0;
    // SAFETY: the host writes a pointer to `size` bytes it allocated with this module's
    // allocator (the SDK's `malloc`: a `Vec<u8>` of that capacity, forgotten), or null. That is
    // proxy-wasm 0.2.5's `malloc`, which Cargo.toml pins exactly for this reason.
    let bytes = unsafe {
        match proxy_get_header_map_pairs(MapType::HttpRequestHeaders as u32, &mut data, &mut size) {
            0 if data.is_null() => Vec::new(),
            0 => Vec::from_raw_parts(data, size, size),
            status => return Err(format!("status {status}")),
        }
    };
    HeaderMap::from_proxy_wasm(bytes).map_err(|e| e.to_string())
}

/// Answers the current stream locally (the request does not go upstream).
fn respond(status: u32, message: &str) {
    let body = format!("sigv4: {message}\n");
    let headers = vec![("content-type", "text/plain")];
    if hostcalls::send_http_response(status, headers, Some(body.as_bytes())).is_err() {
        log(LogLevel::Warn, "could not answer the request");
    }
}

/// Sets the signed headers on the current stream's request; false (and answered 500) when Envoy
/// refused one.
fn apply(headers: &HeaderMap, edits: &[(&str, &str)]) -> bool {
    let applied = plan(headers, edits).all(|edit| {
        let map = MapType::HttpRequestHeaders;
        match edit {
            Edit::Replace(name, value) => hostcalls::set_map_value(map, name, Some(value)),
            Edit::Add(name, value) => hostcalls::add_map_value(map, name, value),
        }
        .is_ok()
    });
    if !applied {
        log(LogLevel::Error, "could not set the signed headers");
        respond(500, "could not set the signature on the request");
    }
    applied
}

/// What the root context and the HTTP contexts of one worker share.
struct Shared {
    config: Config,
    cache: Cache,
    signer: Signer,
    /// The credential fetch in flight and the token of its HTTP call.
    fetch: Option<(u32, Fetch)>,
    /// Requests waiting for credentials.
    waiting: Vec<Waiting>,
}

/// A request paused until credentials arrive.
struct Waiting {
    context_id: u32,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
}

impl Shared {
    /// Signs the current stream's request and sets the result on it. False when it was answered
    /// locally instead (it cannot be signed).
    fn sign_current(&mut self, headers: &HeaderMap, body: Option<&[u8]>, now: u64) -> bool {
        let Some(credentials) = self.cache.usable(now * 1000) else {
            respond(503, "no credentials to sign with");
            return false;
        };
        let body = body.map_or(Body::Unsigned, Body::Bytes);
        let config = &self.config;
        let signed = match sign(config, &mut self.signer, credentials, now, headers, body) {
            Ok(signed) => signed,
            Err(e) => {
                respond(400, &format!("cannot sign this request: {e}"));
                return false;
            }
        };
        let edits = edits(&signed, config, headers.get(":path"));
        apply(headers, &edits)
    }

    /// Signs the current stream's request for an aws-chunked upload of its body and sets the
    /// headers: the encoder of the body, or None when it was answered locally instead.
    fn sign_streaming(
        &mut self,
        headers: &HeaderMap,
        decoded_length: u64,
        now: u64,
    ) -> Option<ChunkEncoder> {
        // The headers go upstream now, before the body: no waiting for credentials here.
        let Some(credentials) = self.cache.usable(now * 1000) else {
            respond(503, "no credentials yet to sign a streamed upload with");
            return None;
        };
        let config = &self.config;
        let signer = &mut self.signer;
        let chunked = match sign_chunked(config, signer, credentials, now, headers, decoded_length)
        {
            Ok(chunked) => chunked,
            Err(e) => {
                respond(400, &format!("cannot sign this upload: {e}"));
                return None;
            }
        };
        let edits = chunked_edits(&chunked, config, headers.get(":path"));
        apply(headers, &edits).then_some(chunked.encoder)
    }

    /// Starts a credential fetch if one is due.
    fn maybe_fetch(&mut self) {
        if !self.cache.should_fetch(now_ms()) {
            return;
        }
        let Some((fetch, call)) = Fetch::start(&self.config.credentials) else {
            return;
        };
        self.dispatch(fetch, call);
    }

    fn dispatch(&mut self, fetch: Fetch, call: crate::credentials::Call) {
        let headers: Vec<(&str, &str)> = call
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let timeout = Duration::from_millis(call.timeout_ms);
        self.cache.started();
        match hostcalls::dispatch_http_call(&call.cluster, headers, None, vec![], timeout) {
            Ok(token) => self.fetch = Some((token, fetch)),
            Err(status) => {
                let why = format!("cluster {:?} cannot be called ({status:?})", call.cluster);
                self.fetched(Err(why));
            }
        }
    }

    /// A fetch ended: remember the result and sign (or refuse) the waiting requests.
    fn fetched(&mut self, result: Result<crate::credentials::Fetched, String>) {
        if let Err(why) = &result {
            log(LogLevel::Warn, &format!("credentials not refreshed: {why}"));
        }
        self.fetch = None;
        let now = now();
        self.cache.finished(now_ms(), result);
        for waiting in std::mem::take(&mut self.waiting) {
            // The stream may be gone (the client went away).
            if hostcalls::set_effective_context(waiting.context_id).is_err() {
                continue;
            }
            if self.sign_current(&waiting.headers, waiting.body.as_deref(), now) {
                let _ = hostcalls::resume_http_request();
            }
        }
    }
}

/// One per worker: reads the configuration, keeps the credentials fresh.
pub struct Root {
    shared: Option<Rc<RefCell<Shared>>>,
}

impl Root {
    /// Before `on_configure`.
    pub fn new() -> Self {
        Root { shared: None }
    }
}

impl Context for Root {
    fn on_http_call_response(&mut self, token: u32, _headers: usize, body_size: usize, _: usize) {
        let Some(shared) = &self.shared else { return };
        let mut shared = shared.borrow_mut();
        let Some((expected, mut fetch)) = shared.fetch.take() else {
            return;
        };
        if token != expected {
            shared.fetch = Some((expected, fetch));
            return;
        }
        let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        match fetch.answer(status, &body) {
            Step::Call(call) => shared.dispatch(fetch, call),
            Step::Done(fetched) => {
                log(LogLevel::Info, "credentials refreshed");
                shared.fetched(Ok(fetched));
            }
            Step::Failed(why) => shared.fetched(Err(why)),
        }
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let json = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        let config = match Config::parse(&json, &crate::env::vm_environment()) {
            Ok(config) => config,
            Err(e) => {
                // Envoy refuses to start with this plugin: the log says which field is wrong.
                log(LogLevel::Critical, &e.to_string());
                return false;
            }
        };
        let cache = match &config.credentials {
            CredentialSource::Inline(credentials) => Cache::fixed(credentials.clone()),
            _ => Cache::default(),
        };
        let fetches = !matches!(config.credentials, CredentialSource::Inline(_));
        let shared = Rc::new(RefCell::new(Shared {
            config,
            cache,
            signer: Signer::new(),
            fetch: None,
            waiting: Vec::new(),
        }));
        if fetches {
            let _ = hostcalls::set_tick_period(Duration::from_secs(1));
            shared.borrow_mut().maybe_fetch();
        }
        self.shared = Some(shared);
        true
    }

    fn on_tick(&mut self) {
        if let Some(shared) = &self.shared {
            shared.borrow_mut().maybe_fetch();
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream {
            context_id,
            shared: self.shared.clone()?,
            buffering: None,
            body_size: 0,
            streaming: None,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// One request.
struct Stream {
    context_id: u32,
    shared: Rc<RefCell<Shared>>,
    /// The request headers, while its body is buffered to be hashed.
    buffering: Option<HeaderMap>,
    /// The body bytes buffered so far.
    body_size: usize,
    /// The encoder of an aws-chunked upload: the headers went upstream signed, and each piece
    /// of the body is replaced with its frames as it passes.
    streaming: Option<ChunkEncoder>,
}

impl Stream {
    /// Signs now, or pauses the request until credentials arrive.
    fn sign_or_wait(&mut self, headers: HeaderMap, body: Option<Vec<u8>>) -> Action {
        let mut shared = self.shared.borrow_mut();
        let now = now();
        if shared.cache.usable(now * 1000).is_some() {
            return match shared.sign_current(&headers, body.as_deref(), now) {
                true => Action::Continue,
                false => Action::Pause,
            };
        }
        shared.waiting.push(Waiting {
            context_id: self.context_id,
            headers,
            body,
        });
        shared.maybe_fetch();
        Action::Pause
    }
}

impl Context for Stream {}

/// Dropped when Envoy deletes the stream (the module exports no `on_done`, see the Makefile).
impl Drop for Stream {
    fn drop(&mut self) {
        // Envoy may end a stream from inside a call the filter makes (a local reply while the
        // shared state is borrowed): then this stream is not waiting, and there is nothing to do.
        let id = self.context_id;
        if let Ok(mut shared) = self.shared.try_borrow_mut() {
            shared.waiting.retain(|w| w.context_id != id);
        }
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _headers: usize, end_of_stream: bool) -> Action {
        let headers = match request_headers() {
            Ok(headers) => headers,
            Err(why) => {
                respond(400, &format!("cannot sign this request: {why}"));
                return Action::Pause;
            }
        };
        let unsigned = {
            let config = &self.shared.borrow().config;
            config.unsigned_payload || config.presign_secs.is_some()
        };
        if unsigned {
            return self.sign_or_wait(headers, None);
        }
        if end_of_stream {
            return self.sign_or_wait(headers, Some(Vec::new()));
        }
        if let Some(length) = self.streams(&headers) {
            let mut shared = self.shared.borrow_mut();
            return match shared.sign_streaming(&headers, length, now()) {
                Some(encoder) => {
                    self.streaming = Some(encoder);
                    Action::Continue
                }
                None => Action::Pause,
            };
        }
        // Hash the body first: hold the headers until its end (Envoy buffers it).
        self.buffering = Some(headers);
        Action::Pause
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.streaming.is_some() {
            return self.encode(body_size, end_of_stream);
        }
        if self.buffering.is_none() {
            // Signed already (the body streams), or waiting for credentials: then hold the body
            // too, or Envoy would send the request on unsigned.
            // Called from inside the resume of this request, the state is borrowed: it is not
            // waiting any more.
            let id = self.context_id;
            let waiting = self
                .shared
                .try_borrow()
                .is_ok_and(|s| s.waiting.iter().any(|w| w.context_id == id));
            return if waiting {
                Action::Pause
            } else {
                Action::Continue
            };
        }
        let limit = self.shared.borrow().config.max_request_bytes;
        if body_size > limit {
            self.buffering = None;
            respond(
                413,
                &format!("the body is over {limit} bytes, the most this filter hashes"),
            );
            return Action::Pause;
        }
        self.body_size = body_size;
        if !end_of_stream {
            return Action::Pause;
        }
        self.body_complete(body_size)
    }

    /// A body followed by trailers ends here, not with an end-of-stream body.
    fn on_http_request_trailers(&mut self, _trailers: usize) -> Action {
        if self.streaming.take().is_some() {
            // The final chunk would have to follow the last data, which has gone: a body with
            // trailers (HTTP/2) has no Content-Length to stream with anyway.
            log(
                LogLevel::Error,
                "trailers after a streamed upload: the body ends unsigned",
            );
            respond(400, "a streamed upload cannot end with trailers");
            return Action::Pause;
        }
        if self.buffering.is_none() {
            return Action::Continue;
        }
        self.body_complete(self.body_size)
    }
}

impl Stream {
    /// The decoded length to stream the body with: when configured, for a `content-length` over
    /// the buffer limit (smaller bodies are hashed whole: one signature, no framing).
    fn streams(&self, headers: &HeaderMap) -> Option<u64> {
        let config = &self.shared.borrow().config;
        if !config.stream_large_bodies {
            return None;
        }
        let length: u64 = headers.get("content-length").parse().ok()?;
        (length > config.max_request_bytes as u64).then_some(length)
    }

    /// A piece of a streamed body: replaced with the frames it completes (none while a chunk
    /// fills), and at the end with the last chunk, the final empty one and the trailer.
    fn encode(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(encoder) = &mut self.streaming else {
            return Action::Continue;
        };
        let data = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut frames = Vec::with_capacity(data.len() + 256);
        let mut input = &data[..];
        let mut failed = None;
        while !input.is_empty() {
            match encoder.push(&mut input) {
                Ok(Some(frame)) => frame.parts().iter().for_each(|p| frames.extend(*p)),
                Ok(None) => {}
                Err(e) => {
                    failed = Some(e.to_string());
                    break;
                }
            }
        }
        if end_of_stream && failed.is_none() {
            match encoder.finish() {
                Ok(finish) => {
                    if let Some(frame) = finish.last {
                        frame.parts().iter().for_each(|p| frames.extend(*p));
                    }
                    frames.extend(finish.end);
                }
                Err(e) => failed = Some(e.to_string()),
            }
        }
        if failed.is_none()
            && hostcalls::set_buffer(BufferType::HttpRequestBody, 0, body_size, &frames).is_err()
        {
            failed = Some("Envoy refused the encoded body".into());
        }
        if let Some(why) = failed {
            self.streaming = None;
            log(LogLevel::Warn, &format!("streamed upload stopped: {why}"));
            respond(400, &format!("cannot stream this upload: {why}"));
            return Action::Pause;
        }
        if end_of_stream {
            self.streaming = None;
        }
        Action::Continue
    }

    /// The whole body is buffered: sign with its hash.
    fn body_complete(&mut self, body_size: usize) -> Action {
        let body = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        let headers = self.buffering.take().unwrap_or_default();
        self.sign_or_wait(headers, Some(body))
    }
}
