//! What every call leaves behind, recorded in one tower layer in front of all services (and in
//! front of [`crate::auth`], so that refused calls are counted and logged too):
//!
//! - a request id: the caller's `x-request-id` when it sent a usable one, else a new UUID,
//!   echoed in the response metadata so a caller can quote it when reporting a problem;
//! - a tracing span `call` with the service, method, request id, peer address and (once
//!   authenticated) the caller's name, so every log line of the call carries them;
//! - the call's count by status code, its latency, and the calls in flight
//!   ([`crate::metrics`]);
//! - one access-log line when the call ends (target `ansinh_server::access`).
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
    task::{Context, Poll, ready},
    time::Instant,
};

use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use prost::Message as _;
use tonic::{
    Code,
    transport::server::{TcpConnectInfo, TlsConnectInfo},
};
use tower::{Layer, Service};
use tracing::{Span, field::Empty};

use crate::metrics::{CallLabels, MethodLabels, Metrics};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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
        let call = CallRecord::start(self.layer.metrics.clone(), service, method, span);
        let future = call.span.in_scope(|| self.inner.call(request));
        ObservedFuture {
            inner: future,
            call: Some(call),
            request_id,
        }
    }
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
    }
}

impl<F, B, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<ObservedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.call.as_ref().map(|call| call.span.enter());
            ready!(this.inner.poll(cx))
        };
        let mut call = this.call.take().expect("polled after completion");
        Poll::Ready(match result {
            Ok(mut response) => {
                call.see_status(response.headers());
                response
                    .headers_mut()
                    .insert(REQUEST_ID, this.request_id.clone());
                Ok(response.map(|inner| ObservedBody { inner, call }))
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
    /// A response body that ends its call's record when it is dropped.
    pub(crate) struct ObservedBody<B> {
        #[pin]
        inner: B,
        call: CallRecord,
    }
}

impl<B: Body> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = {
            let _entered = this.call.span.enter();
            ready!(this.inner.poll_frame(cx))
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
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_when_usable_and_made_otherwise() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("abc-123_x.y"));
        assert_eq!(request_id(&headers), "abc-123_x.y");
        for unusable in ["", "has space", "quote\"", &"x".repeat(129)] {
            headers.insert(REQUEST_ID, HeaderValue::from_str(unusable).unwrap());
            let made = request_id(&headers);
            assert_ne!(made, unusable);
            assert_eq!(made.len(), 36, "a UUID: {made:?}");
        }
    }

    #[test]
    fn only_served_methods_become_labels() {
        let methods = KnownMethods::from_descriptor_sets(&[
            ansinh_proto::pb::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ]);
        assert_eq!(
            methods.labels("/ansinh.v1.StatisticsService/ExportObservations"),
            ("ansinh.v1.StatisticsService", "ExportObservations")
        );
        assert_eq!(
            methods.labels("/grpc.health.v1.Health/Check"),
            ("grpc.health.v1.Health", "Check")
        );
        assert_eq!(
            methods.labels("/ansinh.v1.StatisticsService/DropEverything"),
            (UNKNOWN, UNKNOWN)
        );
    }
}
