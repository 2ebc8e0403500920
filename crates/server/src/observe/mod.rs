//! What every call leaves behind, recorded in one tower layer in front of all services (and in
//! front of [`crate::auth`], so that refused calls are counted and logged too):
//!
//! - a request id: the caller's `x-request-id` when it sent a usable one, else a new UUID,
//!   echoed in the response metadata so a caller can quote it when reporting a problem;
//! - for StatisticsService, `x-ansinh-run` in the response headers of every answer (not of an
//!   error answered at once): the newest committed import run the server had seen in the
//!   ledger when the call began ([`crate::cache::Cache::latest_run_seen`]). The answer includes
//!   that run and every earlier one; figures only change when a run commits, and the database
//!   the server reads only moves forward, so it is a lower bound that holds on a replica too.
//!   Taken when the call begins rather than when it answers, so that a check finishing
//!   mid-call cannot name a run the call's queries did not see;
//! - a tracing span `call` with the service, method, request id, peer address and (once
//!   authenticated) the caller's name, so every log line of the call carries them;
//! - the call's count by status code, its latency, and the calls in flight
//!   ([`crate::metrics`]);
//! - one access-log line when the call ends (target `ansinh_server::access`);
//! - the caller's deadline (`grpc-timeout`): a call still running when it passes is ended with
//!   `DEADLINE_EXCEEDED`, before the answer starts (a trailers-only response carrying the
//!   request id) or during a stream (its trailers). tonic's own deadline, which sits outside
//!   every layer and would answer `CANCELLED` without a request id and unlogged, starts its
//!   clock after this one and polls this layer first, so this one always ends the call.
//!
//! A call ends when its response body does: for ExportObservations that is after the last
//! observation, not when the stream starts. The status code is taken from the `grpc-status`
//! of the response headers (an error answered at once) or trailers (every other call); a body
//! dropped before its trailers is a call the client cancelled.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use prost::Message as _;
use tokio::time::Sleep;
use tonic::{
    Code,
    transport::server::{TcpConnectInfo, TlsConnectInfo},
};
use tower::{Layer, Service};
use tracing::{Span, field::Empty};

use crate::metrics::{CallLabels, MethodLabels, Metrics};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The newest committed import run a StatisticsService answer includes.
const RUN: HeaderName = HeaderName::from_static("x-ansinh-run");

/// The calls whose answers say which run they reflect: the figures. The other services answer
/// from reference data (installed by migrate, not by runs) or from the ledger itself.
const FIGURES_SERVICE: &str = ansinh_proto::pb::statistics_service_server::SERVICE_NAME;

/// The longest caller-chosen request id kept; longer ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The label of paths that name no method this server serves. Only methods from the served
/// descriptor sets become label values, so a caller sending arbitrary paths cannot create
/// arbitrarily many series.
const UNKNOWN: &str = "unknown";

/// The methods this server serves, by path (`/ansinh.v1.RegionService/GetRegion`), with their
/// service and method names as label values.
pub(crate) struct KnownMethods(HashMap<String, (&'static str, &'static str)>);

impl KnownMethods {
    /// Every method of the services in the encoded descriptor sets.
    pub(crate) fn from_descriptor_sets(sets: &[&[u8]]) -> Self {
        let mut methods = HashMap::new();
        for set in sets {
            let set = prost_types::FileDescriptorSet::decode(*set)
                .expect("the descriptor sets compiled into the binary decode");
            for file in set.file {
                for service in &file.service {
                    let service_name = format!("{}.{}", file.package(), service.name());
                    // Leaked once at startup: a few dozen names that live as long as the process
                    // and label every call without allocating.
                    let service_label: &'static str = service_name.clone().leak();
                    for method in &service.method {
                        let method_label: &'static str = method.name().to_owned().leak();
                        methods.insert(
                            format!("/{service_name}/{}", method.name()),
                            (service_label, method_label),
                        );
                    }
                }
            }
        }
        Self(methods)
    }

    fn labels(&self, path: &str) -> (&'static str, &'static str) {
        self.0.get(path).copied().unwrap_or((UNKNOWN, UNKNOWN))
    }
}

/// Wraps every call: see the module documentation.
#[derive(Clone)]
pub(crate) struct ObserveLayer {
    metrics: Arc<Metrics>,
    methods: Arc<KnownMethods>,
}

impl ObserveLayer {
    pub(crate) fn new(metrics: Arc<Metrics>, methods: KnownMethods) -> Self {
        Self {
            metrics,
            methods: Arc::new(methods),
        }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ObserveLayer`] wraps around the others.
#[derive(Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    layer: ObserveLayer,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Observe<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<ObservedBody<ResBody>>;
    type Error = S::Error;
    type Future = ObservedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let (service, method) = self.layer.methods.labels(request.uri().path());
        let request_id = request_id(request.headers());
        let span = tracing::info_span!(
            "call",
            rpc.service = service,
            rpc.method = method,
            request_id = request_id.to_str().unwrap_or_default(),
            peer = Empty,
            caller = Empty,
        );
        if let Some(peer) = peer(&request) {
            span.record("peer", tracing::field::display(peer));
        }
        let run = if service == FIGURES_SERVICE {
            self.layer.metrics.latest_run_seen().map(HeaderValue::from)
        } else {
            None
        };
        let call = CallRecord::start(self.layer.metrics.clone(), service, method, span);
        let deadline = grpc_timeout(request.headers()).map(Deadline::new);
        let future = call.span.in_scope(|| self.inner.call(request));
        ObservedFuture {
            inner: future,
            call: Some(call),
            request_id,
            run,
            deadline,
        }
    }
}

/// The deadline a caller set for a call.
struct Deadline {
    timeout: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl Deadline {
    fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            sleep: Box::pin(tokio::time::sleep(timeout)),
        }
    }

    fn passed(&mut self, cx: &mut Context<'_>) -> bool {
        self.sleep.as_mut().poll(cx).is_ready()
    }

    /// The headers or trailers that end a call whose deadline passed.
    fn status(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "grpc-status",
            HeaderValue::from(Code::DeadlineExceeded as i32),
        );
        let message = format!(
            "the deadline the caller set ({} ms) passed before the call finished",
            self.timeout.as_millis()
        );
        headers.insert(
            "grpc-message",
            HeaderValue::try_from(message).expect("printable ASCII"),
        );
        headers
    }
}

/// The `grpc-timeout` of a request: at most 8 digits and a unit (`H`, `M`, `S`, `m`, `u`,
/// `n`), as the gRPC over HTTP/2 specification writes it; `None` when absent or malformed
/// (the call then has no deadline, as with tonic).
fn grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The caller's request id if it is usable in logs and headers, else a new one.
fn request_id(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(REQUEST_ID)
        .filter(|value| {
            let bytes = value.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= MAX_REQUEST_ID_LEN
                && bytes
                    .iter()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:/+=@".contains(byte))
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::try_from(uuid::Uuid::new_v4().to_string())
                .expect("a UUID is a valid header value")
        })
}

fn peer<B>(request: &http::Request<B>) -> Option<std::net::SocketAddr> {
    let extensions = request.extensions();
    extensions
        .get::<TcpConnectInfo>()
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .map(TlsConnectInfo::get_ref)
        })
        .and_then(TcpConnectInfo::remote_addr)
}

/// One call from its arrival until its response body is dropped, when it is counted and logged.
struct CallRecord {
    metrics: Arc<Metrics>,
    service: &'static str,
    method: &'static str,
    started: Instant,
    code: Option<Code>,
    span: Span,
}

impl CallRecord {
    fn start(
        metrics: Arc<Metrics>,
        service: &'static str,
        method: &'static str,
        span: Span,
    ) -> Self {
        metrics.calls_in_flight.inc();
        Self {
            metrics,
            service,
            method,
            started: Instant::now(),
            code: None,
            span,
        }
    }

    fn see_status(&mut self, headers: &HeaderMap) {
        if let Some(value) = headers.get("grpc-status") {
            self.code = Some(Code::from_bytes(value.as_bytes()));
        }
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        // No status seen: the response ended before its trailers, i.e. the client went away.
        let code = code_name(self.code.unwrap_or(Code::Cancelled));
        let metrics = &self.metrics;
        metrics.calls_in_flight.dec();
        metrics
            .calls
            .get_or_create(&CallLabels {
                service: self.service,
                method: self.method,
                code,
            })
            .inc();
        metrics
            .call_duration
            .get_or_create(&MethodLabels {
                service: self.service,
                method: self.method,
            })
            .observe(elapsed.as_secs_f64());
        self.span.in_scope(|| {
            tracing::info!(
                target: "ansinh_server::access",
                code,
                duration_ms = elapsed.as_secs_f64() * 1000.0,
                "call finished"
            );
        });
    }
}

/// The canonical name of a status code, as the gRPC specification writes it.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

pin_project! {
    /// The response future of [`Observe`]: hands the call's record to the response body.
    pub(crate) struct ObservedFuture<F> {
        #[pin]
        inner: F,
        call: Option<CallRecord>,
        request_id: HeaderValue,
        // `x-ansinh-run` for an answer, when the call is one of the figures.
        run: Option<HeaderValue>,
        deadline: Option<Deadline>,
    }
}

impl<F, B, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<ObservedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = {
            let _entered = this.call.as_ref().map(|call| call.span.enter());
            this.inner.poll(cx)
        };
        let result = match polled {
            Poll::Ready(result) => result,
            Poll::Pending => {
                if !this.deadline.as_mut().is_some_and(|d| d.passed(cx)) {
                    return Poll::Pending;
                }
                // The handler is dropped with this future; the answer is headers alone.
                let mut call = this.call.take().expect("polled after completion");
                call.code = Some(Code::DeadlineExceeded);
                let deadline = this.deadline.take().expect("a deadline that passed is set");
                let mut response = http::Response::new(ObservedBody {
                    inner: None,
                    call,
                    deadline: None,
                });
                *response.headers_mut() = deadline.status();
                let headers = response.headers_mut();
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/grpc"),
                );
                headers.insert(REQUEST_ID, this.request_id.clone());
                return Poll::Ready(Ok(response));
            }
        };
        let mut call = this.call.take().expect("polled after completion");
        let deadline = this.deadline.take();
        Poll::Ready(match result {
            Ok(mut response) => {
                call.see_status(response.headers());
                let headers = response.headers_mut();
                // A status in the headers is an error answered at once: it reflects no run.
                if let Some(run) = this.run.take().filter(|_| call.code.is_none()) {
                    headers.insert(RUN, run);
                }
                headers.insert(REQUEST_ID, this.request_id.clone());
                Ok(response.map(|inner| ObservedBody {
                    inner: Some(inner),
                    call,
                    deadline,
                }))
            }
            Err(error) => {
                // No response at all: the transport will answer with an error of its own.
                call.code = Some(Code::Unknown);
                Err(error)
            }
        })
    }
}

pin_project! {
    /// A response body that ends its call's record when it is dropped, and the call itself
    /// with `DEADLINE_EXCEEDED` trailers if its deadline passes first. `None`: no body.
    pub(crate) struct ObservedBody<B> {
        #[pin]
        inner: Option<B>,
        call: CallRecord,
        deadline: Option<Deadline>,
    }
}

impl<B: Body> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        let polled = {
            let _entered = this.call.span.enter();
            inner.poll_frame(cx)
        };
        let frame = match polled {
            Poll::Ready(frame) => frame,
            Poll::Pending => {
                if !this.deadline.as_mut().is_some_and(|d| d.passed(cx)) {
                    return Poll::Pending;
                }
                // The stream's producer sees its receiver gone and stops.
                this.inner.set(None);
                this.call.code = Some(Code::DeadlineExceeded);
                let trailers = this
                    .deadline
                    .take()
                    .expect("a deadline that passed is set")
                    .status();
                return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
            }
        };
        match &frame {
            Some(Ok(frame)) => {
                if let Some(trailers) = frame.trailers_ref() {
                    this.call.see_status(trailers);
                }
            }
            Some(Err(_)) => this.call.code = Some(Code::Internal),
            None => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

#[cfg(test)]
mod tests;
