#!/usr/bin/env python3
"""Asks ansinh-server whether regions reached their health insurance coverage target.

A third-party client without ansinh's .proto files: the message types are built at run time
from the descriptors the server publishes through gRPC server reflection (v1alpha, which
grpcio-reflection speaks), so nothing is generated or copied from the ansinh repository.

    python client.py --target 127.0.0.1:50051 --region 68 --period 2024

prints one line per region, e.g.

    68 Lâm Đồng, hi_coverage_rate 2024: 94.56 against a target of 93.65, +0.91 percentage points, 100.97% of the target: MET

and exits 0; a failed call prints its gRPC status code and message and exits 1.
"""

import argparse
import sys

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

METHOD = "ansinh.v1.StatisticsService.GetTargetAttainment"


def enum_name(message, field, prefix):
    """The name of an enum field's value without its prefix: ATTAINMENT_STATUS_MET -> MET."""
    enum = message.DESCRIPTOR.fields_by_name[field].enum_type
    return enum.values_by_number[getattr(message, field)].name.removeprefix(prefix)


def describe(attainment, indicator_code, period):
    region = attainment.region
    line = f"{region.code} {region.name}, {indicator_code} {period}: "
    status = enum_name(attainment, "status", "ATTAINMENT_STATUS_")
    if not attainment.actual or not attainment.target:
        actual = attainment.actual or "no figure"
        target = attainment.target or "no target"
        return line + f"{actual} against {target}: {status}"
    unit = enum_name(attainment, "difference_unit", "UNIT_").lower().replace("_", " ")
    difference = attainment.difference
    if not difference.startswith("-"):
        difference = "+" + difference
    line += (
        f"{attainment.actual} against a target of {attainment.target}, "
        f"{difference} {unit}, {attainment.attainment_percent}% of the target"
    )
    if attainment.year_to_date:
        line += f" (year to date, figure of {attainment.actual_period.text})"
    return line + f": {status}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="127.0.0.1:50051", help="host:port of ansinh-server")
    parser.add_argument(
        "--region", action="append", dest="regions", help="region code, repeatable (default 68)"
    )
    parser.add_argument("--indicator", default="hi_coverage_rate", help="indicator code")
    parser.add_argument("--period", default="2024", help='period, e.g. "2024"')
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds for connecting and for each call"
    )
    args = parser.parse_args()

    with grpc.insecure_channel(args.target) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=args.timeout)
        except grpc.FutureTimeoutError:
            print(f"cannot connect to {args.target} within {args.timeout}s", file=sys.stderr)
            return 1

        # The pool asks the server's reflection service for each descriptor it needs.
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        method = pool.FindMethodByName(METHOD)
        request_type = message_factory.GetMessageClass(method.input_type)
        response_type = message_factory.GetMessageClass(method.output_type)
        call = channel.unary_unary(
            f"/{method.containing_service.full_name}/{method.name}",
            request_serializer=request_type.SerializeToString,
            response_deserializer=response_type.FromString,
        )

        request = request_type(
            region_codes=args.regions or ["68"],
            indicator_code=args.indicator,
            period=args.period,
        )
        try:
            response = call(request, timeout=args.timeout)
        except grpc.RpcError as error:
            print(f"{error.code().name}: {error.details()}", file=sys.stderr)
            return 1

    for attainment in response.attainments:
        print(describe(attainment, args.indicator, response.period.text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
