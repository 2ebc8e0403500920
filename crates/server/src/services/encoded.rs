//! StatisticsService with GetTimeSeries answered from encoded bytes. The cache keeps answers
//! as the bytes that go on the wire, so a hit costs a lookup and a copy instead of cloning,
//! encoding and freeing a message of hundreds of fields. The generated server can only send
//! messages, so this service takes GetTimeSeries calls itself — the same `tonic::server::Grpc`
//! handling, with a codec whose encoder writes bytes that are already encoded — and hands
//! every other method to the generated server.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use ansinh_proto::pb::{self, statistics_service_server::StatisticsServiceServer};
use bytes::{BufMut, Bytes};
use tonic::codec::{Codec, EncodeBuf, Encoder};
use tonic::codegen::{Body, BoxFuture, Service, StdError, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};
use tonic_prost::ProstDecoder;

use super::Statistics;

const GET_TIME_SERIES: &str = "/ansinh.v1.StatisticsService/GetTimeSeries";

/// The StatisticsService as served.
#[derive(Clone)]
pub(crate) struct StatisticsRoutes {
    statistics: Arc<Statistics>,
    generated: StatisticsServiceServer<Statistics>,
    max_decoding_message_size: Option<usize>,
    max_encoding_message_size: Option<usize>,
}

impl StatisticsRoutes {
    pub(crate) fn new(statistics: Statistics) -> Self {
        let statistics = Arc::new(statistics);
        Self {
            generated: StatisticsServiceServer::from_arc(Arc::clone(&statistics)),
            statistics,
            max_decoding_message_size: None,
            max_encoding_message_size: None,
        }
    }

    /// The largest request accepted, for every method; like the generated server's method.
    pub(crate) fn max_decoding_message_size(mut self, limit: usize) -> Self {
        self.generated = self.generated.max_decoding_message_size(limit);
        self.max_decoding_message_size = Some(limit);
        self
    }

    /// The largest response sent, for every method (a cached GetTimeSeries answer too); like
    /// the generated server's method.
    pub(crate) fn max_encoding_message_size(mut self, limit: usize) -> Self {
        self.generated = self.generated.max_encoding_message_size(limit);
        self.max_encoding_message_size = Some(limit);
        self
    }
}

impl NamedService for StatisticsRoutes {
    const NAME: &'static str = <StatisticsServiceServer<Statistics> as NamedService>::NAME;
}

impl<B> Service<http::Request<B>> for StatisticsRoutes
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != GET_TIME_SERIES {
            return self.generated.call(request);
        }
        let method = TimeSeries(Arc::clone(&self.statistics));
        let mut grpc = Grpc::new(EncodedCodec).apply_max_message_size_config(
            self.max_decoding_message_size,
            self.max_encoding_message_size,
        );
        Box::pin(async move { Ok(grpc.unary(method, request).await) })
    }
}

struct TimeSeries(Arc<Statistics>);

impl UnaryService<pb::GetTimeSeriesRequest> for TimeSeries {
    type Response = Bytes;
    type Future = BoxFuture<Response<Bytes>, Status>;

    fn call(&mut self, request: Request<pb::GetTimeSeriesRequest>) -> Self::Future {
        let statistics = Arc::clone(&self.0);
        Box::pin(async move {
            let encoded = statistics.time_series_encoded(request.into_inner()).await?;
            Ok(Response::new(encoded))
        })
    }
}

/// Decodes GetTimeSeries requests with prost; sends answers that are already encoded.
struct EncodedCodec;

impl Codec for EncodedCodec {
    type Encode = Bytes;
    type Decode = pb::GetTimeSeriesRequest;
    type Encoder = BytesEncoder;
    type Decoder = ProstDecoder<pb::GetTimeSeriesRequest>;

    fn encoder(&mut self) -> Self::Encoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder::default()
    }
}

struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}
