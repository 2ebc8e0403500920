//! Unit tests of the observe layer: request ids, deadlines, access logs and metrics, and the
//! run an answer reflects.

use std::convert::Infallible;

use bytes::Bytes;

use super::*;
use crate::cache::{Cache, CacheSettings};

#[test]
fn grpc_timeouts_are_read_as_the_specification_writes_them() {
    let cases = [
        ("300m", Some(Duration::from_millis(300))),
        ("2S", Some(Duration::from_secs(2))),
        ("1H", Some(Duration::from_secs(3600))),
        ("5M", Some(Duration::from_secs(300))),
        ("750u", Some(Duration::from_micros(750))),
        ("99999999n", Some(Duration::from_nanos(99_999_999))),
        ("123456789m", None),
        ("m", None),
        ("", None),
        ("10", None),
        ("10x", None),
        ("-1m", None),
        ("1.5S", None),
    ];
    for (text, expected) in cases {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", HeaderValue::from_static(text));
        assert_eq!(grpc_timeout(&headers), expected, "{text:?}");
    }
    assert_eq!(grpc_timeout(&HeaderMap::new()), None);
}

/// A response body that never yields a frame: a stream whose producer is stuck.
struct Stuck;

impl Body for Stuck {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Pending
    }
}

fn observed<F, Fut>(handler: F) -> (Observe<tower::util::ServiceFn<F>>, Arc<Metrics>)
where
    F: FnMut(http::Request<()>) -> Fut,
    Fut: Future<Output = Result<http::Response<Stuck>, Infallible>>,
{
    observed_with(
        Cache::new(CacheSettings {
            enabled: false,
            check_interval: Duration::from_secs(1),
            max_bytes: 0,
            check_timeout: Duration::from_secs(1),
        }),
        handler,
    )
}

fn observed_with<F, Fut>(
    cache: Cache,
    handler: F,
) -> (Observe<tower::util::ServiceFn<F>>, Arc<Metrics>)
where
    F: FnMut(http::Request<()>) -> Fut,
    Fut: Future<Output = Result<http::Response<Stuck>, Infallible>>,
{
    let metrics = Arc::new(Metrics::new(cache));
    let methods = KnownMethods::from_descriptor_sets(&[ansinh_proto::pb::FILE_DESCRIPTOR_SET]);
    let layer = ObserveLayer::new(Arc::clone(&metrics), methods);
    (layer.layer(tower::service_fn(handler)), metrics)
}

fn request_with_deadline(timeout: &'static str) -> http::Request<()> {
    http::Request::builder()
        .uri("/ansinh.v1.StatisticsService/ExportObservations")
        .header("grpc-timeout", timeout)
        .header(REQUEST_ID, "deadline-test")
        .body(())
        .unwrap()
}

fn deadline_exceeded_count(metrics: &Metrics) -> u64 {
    metrics
        .calls
        .get_or_create(&CallLabels {
            service: "ansinh.v1.StatisticsService",
            method: "ExportObservations",
            code: "DEADLINE_EXCEEDED",
        })
        .get()
}

#[tokio::test]
async fn a_call_still_running_at_its_deadline_is_answered_deadline_exceeded() {
    let (mut service, metrics) = observed(|_| std::future::pending());
    let started = Instant::now();
    let response = service
        .call(request_with_deadline("50m"))
        .await
        .expect("an answer, not a transport error");
    assert!(started.elapsed() >= Duration::from_millis(50));
    let headers = response.headers();
    assert_eq!(headers["grpc-status"], "4");
    assert_eq!(headers[REQUEST_ID], "deadline-test");
    assert_eq!(headers["content-type"], "application/grpc");
    assert!(
        headers["grpc-message"].to_str().unwrap().contains("50 ms"),
        "{headers:?}"
    );
    assert!(response.body().is_end_stream());
    drop(response);
    assert_eq!(deadline_exceeded_count(&metrics), 1);
}

#[tokio::test]
async fn a_stream_still_open_at_its_deadline_ends_with_deadline_exceeded_trailers() {
    let (mut service, metrics) = observed(|_| std::future::ready(Ok(http::Response::new(Stuck))));
    let response = service.call(request_with_deadline("50m")).await.unwrap();
    assert!(response.headers().get("grpc-status").is_none());
    let mut body = Box::pin(response.into_body());
    let frame = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx))
        .await
        .expect("a frame")
        .unwrap();
    let trailers = frame.into_trailers().expect("trailers");
    assert_eq!(trailers["grpc-status"], "4");
    assert!(
        std::future::poll_fn(|cx| body.as_mut().poll_frame(cx))
            .await
            .is_none(),
        "nothing after the trailers"
    );
    drop(body);
    assert_eq!(deadline_exceeded_count(&metrics), 1);
}

#[tokio::test]
async fn a_call_answered_in_time_keeps_its_answer() {
    let (mut service, metrics) = observed(|_| std::future::ready(Ok(http::Response::new(Stuck))));
    let response = service.call(request_with_deadline("10S")).await.unwrap();
    assert!(response.headers().get("grpc-status").is_none());
    assert_eq!(response.headers()[REQUEST_ID], "deadline-test");
    drop(response);
    assert_eq!(deadline_exceeded_count(&metrics), 0);
}

#[tokio::test]
async fn answers_of_the_figures_say_which_run_they_reflect() {
    let cache = Cache::new(CacheSettings {
        enabled: true,
        check_interval: Duration::from_secs(1),
        max_bytes: 0,
        check_timeout: Duration::from_secs(1),
    });
    let (mut service, _) = observed_with(cache.clone(), |_| {
        std::future::ready(Ok(http::Response::new(Stuck)))
    });
    let call = |path: &'static str| {
        http::Request::builder()
            .uri(path)
            .body(())
            .expect("a request")
    };
    let series = "/ansinh.v1.StatisticsService/GetTimeSeries";
    // No run seen yet (or the cache is off): nothing to say.
    let response = service.call(call(series)).await.unwrap();
    assert!(response.headers().get(RUN).is_none());

    cache.saw_run(7);
    let response = service.call(call(series)).await.unwrap();
    assert_eq!(response.headers()[RUN], "7");
    // The run is read when the call begins: a newer one seen while it runs is not claimed.
    let pending = service.call(call(series));
    cache.saw_run(8);
    assert_eq!(pending.await.unwrap().headers()[RUN], "7");
    // Other services do not answer from runs.
    let response = service
        .call(call("/ansinh.v1.RegionService/ListRegions"))
        .await
        .unwrap();
    assert!(response.headers().get(RUN).is_none());
}

#[tokio::test]
async fn an_error_answered_at_once_names_no_run() {
    let cache = Cache::new(CacheSettings {
        enabled: true,
        check_interval: Duration::from_secs(1),
        max_bytes: 0,
        check_timeout: Duration::from_secs(1),
    });
    cache.saw_run(7);
    // UNAVAILABLE as tonic answers an error: headers only, no body.
    let (mut service, _) = observed_with(cache, |_| {
        let mut response = http::Response::new(Stuck);
        response
            .headers_mut()
            .insert("grpc-status", HeaderValue::from(Code::Unavailable as i32));
        std::future::ready(Ok(response))
    });
    let request = http::Request::builder()
        .uri("/ansinh.v1.StatisticsService/GetTimeSeries")
        .body(())
        .unwrap();
    let response = service.call(request).await.unwrap();
    assert!(response.headers().get(RUN).is_none());
    assert!(response.headers().get(REQUEST_ID).is_some());
}

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
