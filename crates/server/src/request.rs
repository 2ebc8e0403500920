//! Reading request fields into domain values. Each reader records a field violation naming the
//! field instead of failing at the first problem, so one INVALID_ARGUMENT lists everything
//! wrong with the request.

use ansinh_model::{IndicatorCode, NaiveDate, Period, RegionCode, parse_date};

use crate::error::Violations;

/// The default and the largest page size (AIP-158).
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// See [`DEFAULT_PAGE_SIZE`].
pub const MAX_PAGE_SIZE: u32 = 1000;

impl Violations {
    /// A required region code.
    pub fn region_code(&mut self, field: &str, text: &str) -> Option<RegionCode> {
        if text.trim().is_empty() {
            self.add(field, "is required: a region code such as \"68\" or \"VN\"");
            return None;
        }
        self.check(field, RegionCode::parse(text))
    }

    /// A required indicator code.
    pub fn indicator_code(&mut self, field: &str, text: &str) -> Option<IndicatorCode> {
        if text.trim().is_empty() {
            self.add(
                field,
                "is required: an indicator code such as \"hi_coverage_rate\"",
            );
            return None;
        }
        self.check(field, IndicatorCode::parse(text))
    }

    /// An optional ISO date; `None` when empty.
    pub fn optional_date(&mut self, field: &str, text: &str) -> Option<NaiveDate> {
        if text.trim().is_empty() {
            return None;
        }
        self.check(field, parse_date(text))
    }

    /// An ISO date that defaults to today (UTC+7, Vietnam's calendar day) when empty.
    pub fn date_or_today(&mut self, field: &str, text: &str) -> NaiveDate {
        self.optional_date(field, text).unwrap_or_else(today)
    }

    /// A required period in the text of the data contract.
    pub fn period(&mut self, field: &str, text: &str) -> Option<Period> {
        if text.trim().is_empty() {
            self.add(
                field,
                "is required: a period such as \"2024\", \"2024-Q3\" or \"2025-01/2025-05\"",
            );
            return None;
        }
        self.check(field, Period::parse(text))
    }

    /// A page size: 0 means the default; above the maximum is clamped (AIP-158).
    pub fn page_size(&mut self, field: &str, size: i32) -> u32 {
        match u32::try_from(size) {
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(size) => size.min(MAX_PAGE_SIZE),
            Err(_) => {
                self.add(field, "must not be negative");
                DEFAULT_PAGE_SIZE
            }
        }
    }
}

/// Today's date in Vietnam (UTC+7), where the figures' days are counted.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// Opaque page tokens (AIP-158): the cursor of the last item returned, bound to a fingerprint of
/// the request's filter so a token cannot be replayed against another filter.
pub mod page_token {
    const VERSION: &str = "v1";
    const SEPARATOR: char = '\u{1f}';

    /// Encodes `cursor` (fields without the separator) for a request whose filter is `filter`.
    pub fn encode(filter: &[&str], cursor: &[&str]) -> String {
        let mut text = format!("{VERSION}{SEPARATOR}{:016x}", fingerprint(filter));
        for field in cursor {
            text.push(SEPARATOR);
            text.push_str(field);
        }
        text.bytes().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Decodes a token made by [`encode`] for the same filter; the error says why it is refused.
    pub fn decode(token: &str, filter: &[&str]) -> Result<Vec<String>, &'static str> {
        const INVALID: &str = "is not a page token this server issued; pass the next_page_token of the previous response unchanged";
        if !token.len().is_multiple_of(2) || !token.is_ascii() {
            return Err(INVALID);
        }
        let bytes = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| INVALID)?;
        let text = String::from_utf8(bytes).map_err(|_| INVALID)?;
        let mut fields = text.split(SEPARATOR);
        if fields.next() != Some(VERSION) {
            return Err(INVALID);
        }
        if fields.next() != Some(format!("{:016x}", fingerprint(filter)).as_str()) {
            return Err(
                "belongs to a request with a different filter; keep every other field of the request unchanged when paging",
            );
        }
        Ok(fields.map(str::to_owned).collect())
    }

    /// FNV-1a: stable across processes and builds, so every replica accepts every token.
    fn fingerprint(filter: &[&str]) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for field in filter {
            for byte in field.bytes().chain([0xff]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_for_the_same_filter_only() {
        let token = page_token::encode(&["province", "2024-06-01"], &["68", "1234"]);
        assert_eq!(
            page_token::decode(&token, &["province", "2024-06-01"]).unwrap(),
            ["68", "1234"]
        );
        assert!(
            page_token::decode(&token, &["province", "2025-08-01"])
                .unwrap_err()
                .contains("different filter")
        );
        assert!(
            page_token::decode("zz", &[])
                .unwrap_err()
                .contains("not a page token")
        );
        assert!(page_token::decode("abc", &[]).is_err());
    }

    #[test]
    fn page_sizes_default_clamp_and_refuse_negatives() {
        let mut violations = Violations::default();
        assert_eq!(violations.page_size("page_size", 0), DEFAULT_PAGE_SIZE);
        assert_eq!(violations.page_size("page_size", 5000), MAX_PAGE_SIZE);
        assert_eq!(violations.page_size("page_size", 7), 7);
        violations.page_size("page_size", -1);
        assert!(violations.finish().is_err());
    }
}
