//! A `GetTimeSeriesResponse` written straight to its protobuf bytes, point by point.
//!
//! Built as messages, a series of 50 points is some 1,200 small strings: every point repeats
//! its period, the periods and values of the two points its changes refer to, and the full
//! message of each region version it is made of, and then each string is copied again into
//! the encoding. Written here, a period or a region version is encoded once per answer and
//! its bytes are copied after that; a value's text is formatted once. The bytes are those
//! `prost` writes for the same message (fields in tag order, defaults left out), so clients
//! and the cache cannot tell the two apart; the tests hold the writer to that.

use std::collections::HashMap;

use prost::Message as _;
use prost::encoding::{WireType, encode_key, encode_varint};

use ansinh_model::{Change, Decimal, Period, Quantity, Region};

use crate::convert::{decimal_text, qualifier};
use crate::pb;

/// One point of a series, as [`SeriesWriter::point`] writes it.
pub struct WirePoint<'a> {
    /// The point's period and figure.
    pub period: Period,
    pub value: Quantity,
    /// The change against the previous point, with that point's period and figure.
    pub from_previous: Option<(&'a Change, Period, Quantity)>,
    /// The change against the same period a year earlier, with that point's figure.
    pub from_year_earlier: Option<(&'a Change, Period, Quantity)>,
    /// Whether the figure was carried across a split.
    pub approximate: bool,
    /// Indexes into the constituents given to [`SeriesWriter::new`].
    pub constituents: &'a [usize],
    /// How many constituents reported, for a sum of several.
    pub completeness: Option<&'a pb::Completeness>,
}

/// Writes one `GetTimeSeriesResponse`: [`new`](Self::new), a [`point`](Self::point) per
/// point in order, then [`finish`](Self::finish).
pub struct SeriesWriter {
    out: Vec<u8>,
    point: Vec<u8>,
    change: Vec<u8>,
    /// Each region version a point may name, encoded once.
    constituents: Vec<Vec<u8>>,
    /// Each period met so far, encoded once: a point's own period comes back as the reference
    /// of the next point's change and of the change a year on.
    periods: HashMap<Period, Vec<u8>>,
    /// Each value met so far, as text.
    values: HashMap<Decimal, String>,
    approximate: bool,
}

impl SeriesWriter {
    /// Starts the answer for `region` and `indicator`; points name `constituents` by index.
    pub fn new<'a>(
        region: &pb::Region,
        indicator: &pb::Indicator,
        constituents: impl IntoIterator<Item = &'a Region>,
    ) -> Self {
        let mut out = Vec::with_capacity(16 * 1024);
        prost::encoding::message::encode(1, region, &mut out);
        prost::encoding::message::encode(2, indicator, &mut out);
        Self {
            out,
            point: Vec::with_capacity(512),
            change: Vec::with_capacity(128),
            constituents: constituents
                .into_iter()
                .map(|region| pb::Region::from(region).encode_to_vec())
                .collect(),
            periods: HashMap::new(),
            values: HashMap::new(),
            approximate: false,
        }
    }

    /// Appends a point (field 3, `points`).
    ///
    /// # Panics
    /// If a constituent index is not one of those given to [`new`](Self::new).
    pub fn point(&mut self, point: &WirePoint<'_>) {
        let mut buf = std::mem::take(&mut self.point);
        buf.clear();
        let period = self.period(point.period);
        length_delimited(1, period, &mut buf);
        string(2, self.value(point.value.value), &mut buf);
        enumeration(3, qualifier(point.value.qualifier), &mut buf);
        for (tag, change) in [(4, point.from_previous), (5, point.from_year_earlier)] {
            if let Some((change, period, reference)) = change {
                self.write_change(tag, change, period, reference, &mut buf);
            }
        }
        boolean(6, point.approximate, &mut buf);
        for &i in point.constituents {
            length_delimited(7, &self.constituents[i], &mut buf);
        }
        if let Some(completeness) = point.completeness {
            prost::encoding::message::encode(8, completeness, &mut buf);
        }
        length_delimited(3, &buf, &mut self.out);
        self.point = buf;
        self.approximate |= point.approximate;
    }

    /// The encoded response.
    pub fn finish(mut self) -> Vec<u8> {
        boolean(4, self.approximate, &mut self.out);
        self.out
    }

    /// A `Change` (fields 1 to 6) as field `tag` of `buf`.
    fn write_change(
        &mut self,
        tag: u32,
        change: &Change,
        period: Period,
        reference: Quantity,
        buf: &mut Vec<u8>,
    ) {
        let mut message = std::mem::take(&mut self.change);
        message.clear();
        length_delimited(1, self.period(period), &mut message);
        string(2, self.value(reference.value), &mut message);
        string(3, &decimal_text(change.absolute.value), &mut message);
        enumeration(4, pb::Unit::from(change.absolute_unit).into(), &mut message);
        if let Some(relative) = change.relative_percent {
            string(5, &decimal_text(relative.value), &mut message);
        }
        enumeration(6, qualifier(change.absolute.qualifier), &mut message);
        length_delimited(tag, &message, buf);
        self.change = message;
    }

    fn period(&mut self, period: Period) -> &[u8] {
        self.periods
            .entry(period)
            .or_insert_with(|| pb::Period::from(period).encode_to_vec())
    }

    fn value(&mut self, value: Decimal) -> &str {
        self.values
            .entry(value)
            .or_insert_with(|| decimal_text(value))
    }
}

fn length_delimited(tag: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}

/// A proto3 string: left out when empty.
fn string(tag: u32, text: &str, buf: &mut Vec<u8>) {
    if !text.is_empty() {
        length_delimited(tag, text.as_bytes(), buf);
    }
}

/// A proto3 enum: left out when zero (unspecified).
fn enumeration(tag: u32, value: i32, buf: &mut Vec<u8>) {
    if value != 0 {
        prost::encoding::int32::encode(tag, &value, buf);
    }
}

/// A proto3 bool: left out when false.
fn boolean(tag: u32, value: bool, buf: &mut Vec<u8>) {
    if value {
        prost::encoding::bool::encode(tag, &value, buf);
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use ansinh_model::{ChangeUnit, Qualifier, RegionCode, RegionLevel, Unit, Validity};

    use super::*;
    use crate::convert;

    fn quantity(text: &str, qualifier: Qualifier) -> Quantity {
        Quantity {
            value: Decimal::from_str(text).unwrap(),
            qualifier,
        }
    }

    fn region(code: &str, name: &str, to: Option<&str>) -> Region {
        Region {
            code: RegionCode::parse(code).unwrap(),
            name: name.to_owned(),
            name_vi: Some(format!("Tỉnh {name}")),
            level: RegionLevel::Province,
            kind: Some("province".to_owned()),
            parent: Some(RegionCode::parse("VN").unwrap()),
            validity: Validity {
                from: "2008-08-01".parse().unwrap(),
                to: to.map(|date| date.parse().unwrap()),
            },
        }
    }

    /// The writer's bytes are prost's for the same message, built the plain way.
    #[test]
    fn writes_what_prost_writes_for_the_same_message() {
        let regions = [
            region("68", "Lâm Đồng", None),
            region("67", "Đắk Nông", Some("2025-06-30")),
        ];
        let indicator = pb::Indicator {
            code: "si_participants".to_owned(),
            unit: pb::Unit::Persons.into(),
            ..pb::Indicator::default()
        };
        let may: Period = "2025-05".parse().unwrap();
        let april: Period = "2025-04".parse().unwrap();
        let year_before: Period = "2024-05".parse().unwrap();
        let growth = Change::between(
            quantity("1229935", Qualifier::Exact),
            quantity("1269187", Qualifier::MoreThan),
            Unit::Persons,
        );
        let fall = Change {
            absolute: quantity("-39252", Qualifier::Exact),
            absolute_unit: ChangeUnit::Persons,
            relative_percent: None,
        };
        let completeness = pb::Completeness {
            reporting: 1,
            expected: 2,
            missing_region_codes: vec!["67".to_owned()],
        };
        let points = [
            WirePoint {
                period: year_before,
                value: quantity("0", Qualifier::Exact),
                from_previous: None,
                from_year_earlier: None,
                approximate: false,
                constituents: &[0],
                completeness: None,
            },
            WirePoint {
                period: april,
                value: quantity("1269187", Qualifier::MoreThan),
                from_previous: Some((&fall, year_before, quantity("0", Qualifier::Exact))),
                from_year_earlier: None,
                approximate: true,
                constituents: &[0, 1],
                completeness: Some(&completeness),
            },
            WirePoint {
                period: may,
                value: quantity("1229935.50", Qualifier::About),
                from_previous: Some((&growth, april, quantity("1269187", Qualifier::MoreThan))),
                from_year_earlier: Some((&fall, year_before, quantity("0", Qualifier::Exact))),
                approximate: false,
                constituents: &[],
                completeness: None,
            },
        ];

        let mut writer = SeriesWriter::new(&pb::Region::from(&regions[0]), &indicator, &regions);
        for point in &points {
            writer.point(point);
        }
        let written = writer.finish();

        let plain = pb::GetTimeSeriesResponse {
            region: Some(pb::Region::from(&regions[0])),
            indicator: Some(indicator.clone()),
            points: points
                .iter()
                .map(|point| pb::TimeSeriesPoint {
                    period: Some(pb::Period::from(point.period)),
                    value: decimal_text(point.value.value),
                    qualifier: qualifier(point.value.qualifier),
                    change_from_previous: point
                        .from_previous
                        .map(|(change, period, value)| convert::change(change, period, value)),
                    change_from_year_earlier: point
                        .from_year_earlier
                        .map(|(change, period, value)| convert::change(change, period, value)),
                    approximate: point.approximate,
                    constituents: point
                        .constituents
                        .iter()
                        .map(|&i| pb::Region::from(&regions[i]))
                        .collect(),
                    completeness: point.completeness.cloned(),
                })
                .collect(),
            approximate: true,
        };
        assert_eq!(written, plain.encode_to_vec());
        assert_eq!(pb::GetTimeSeriesResponse::decode(&*written).unwrap(), plain);
    }

    #[test]
    fn an_answer_without_points_is_its_region_and_indicator() {
        let region = pb::Region {
            code: "68".to_owned(),
            ..pb::Region::default()
        };
        let indicator = pb::Indicator::default();
        let written = SeriesWriter::new(&region, &indicator, []).finish();
        let plain = pb::GetTimeSeriesResponse {
            region: Some(region),
            indicator: Some(indicator),
            ..pb::GetTimeSeriesResponse::default()
        };
        assert_eq!(written, plain.encode_to_vec());
    }
}
