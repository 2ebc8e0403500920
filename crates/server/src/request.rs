//! Reading request fields into domain values. Each reader records a field violation naming the
//! field instead of failing at the first problem, so one INVALID_ARGUMENT lists everything
//! wrong with the request.

use ansinh_model::{IndicatorCode, NaiveDate, Period, RegionCode, RegionLevel, parse_date};
use ansinh_proto::{convert::region_level, pb};
use ansinh_store::queries::EndWindow;

use crate::error::{ApiError, Violations};

/// What a RegionLevel field accepts, for its violations.
pub const REGION_LEVELS: &str = "use REGION_LEVEL_NATION, REGION_LEVEL_PROVINCE, REGION_LEVEL_DISTRICT, REGION_LEVEL_COMMUNE or REGION_LEVEL_GROUP";

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

    /// A required ISO date.
    pub fn date(&mut self, field: &str, text: &str) -> Option<NaiveDate> {
        if text.trim().is_empty() {
            self.add(field, "is required: an ISO date such as \"2025-07-01\"");
            return None;
        }
        self.optional_date(field, text)
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

    /// A required child level.
    pub fn level(&mut self, field: &str, value: i32) -> Option<RegionLevel> {
        match pb::RegionLevel::try_from(value) {
            Err(_) => {
                self.add(
                    field,
                    format!("{value} is not a RegionLevel value; {REGION_LEVELS}"),
                );
                None
            }
            Ok(level) => {
                let level = region_level(level);
                if level.is_none() {
                    self.add(
                        field,
                        "is required: the level of the children, such as REGION_LEVEL_PROVINCE",
                    );
                }
                level
            }
        }
    }

    /// A window of period end dates; the end must not come before the start.
    pub fn end_window(&mut self, start: &str, end: &str) -> EndWindow {
        let from = self.optional_date("start_date", start);
        let to = self.optional_date("end_date", end);
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            self.add(
                "end_date",
                format!(
                    "{to} is before start_date {from}; give a window that ends after it starts"
                ),
            );
        }
        EndWindow { from, to }
    }

    /// Repeated region codes; each bad one is reported with its index.
    pub fn region_codes(&mut self, field: &str, texts: &[String]) -> Vec<RegionCode> {
        texts
            .iter()
            .enumerate()
            .filter_map(|(i, text)| self.region_code(&format!("{field}[{i}]"), text))
            .collect()
    }

    /// Repeated indicator codes; each bad one is reported with its index.
    pub fn indicator_codes(&mut self, field: &str, texts: &[String]) -> Vec<IndicatorCode> {
        texts
            .iter()
            .enumerate()
            .filter_map(|(i, text)| self.indicator_code(&format!("{field}[{i}]"), text))
            .collect()
    }

    /// The request read into a query when nothing was recorded, else every violation as one
    /// INVALID_ARGUMENT. `build` assembles the query from the readers' values (`field?`); it
    /// finds one missing only if a reader returned nothing without recording why, a defect.
    pub fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        self.finish()?;
        build().ok_or_else(|| {
            ApiError::Internal(
                "a request reader returned no value and recorded no violation".into(),
            )
        })
    }
}

/// Today's date in Vietnam (UTC+7), where the figures' days are counted.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// Opaque page tokens (AIP-158): the cursor of the last item returned, bound to a fingerprint of
/// the request's filter so a token cannot be replayed against another filter, and signed with
/// HMAC-SHA256 so that a client can neither edit a cursor nor make one up. The token is the hex
/// of the payload followed by its 32-byte tag.
///
/// Each paginated method signs with a key of its own, derived from the server's key, so a
/// token of one method is refused by another. The server's key comes from
/// `ANSINH_PAGE_TOKEN_KEY`; without it a random one is drawn at startup, and tokens then stop
/// working on restart and on other replicas.
pub mod page_token {
    use ring::hmac;

    const VERSION: &str = "v2";
    const SEPARATOR: char = '\u{1f}';
    const TAG_LEN: usize = 32;
    const INVALID: &str = "is not a page token this server issued; pass the next_page_token of the previous response unchanged";

    /// The server's key, from which each method's is derived.
    #[derive(Clone)]
    pub struct Key(hmac::Key);

    impl Key {
        /// The key made from a configured secret.
        pub fn from_secret(secret: &[u8]) -> Self {
            Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
        }

        /// A key drawn from the operating system's random numbers.
        pub fn random() -> Result<Self, ring::error::Unspecified> {
            hmac::Key::generate(hmac::HMAC_SHA256, &ring::rand::SystemRandom::new()).map(Self)
        }

        /// The tokens of `method`, e.g. "ListRegions".
        pub fn tokens(&self, method: &str) -> Tokens {
            let derived = hmac::sign(&self.0, format!("ansinh page token {method}").as_bytes());
            Tokens(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()))
        }
    }

    /// Issues and reads the page tokens of one method.
    pub struct Tokens(hmac::Key);

    impl Tokens {
        /// Encodes `cursor` (fields without the separator) for a request whose filter is
        /// `filter`.
        pub fn encode(&self, filter: &[&str], cursor: &[&str]) -> String {
            let mut payload = format!("{VERSION}{SEPARATOR}{:016x}", fingerprint(filter));
            for field in cursor {
                payload.push(SEPARATOR);
                payload.push_str(field);
            }
            let tag = hmac::sign(&self.0, payload.as_bytes());
            payload
                .bytes()
                .chain(tag.as_ref().iter().copied())
                .map(|byte| format!("{byte:02x}"))
                .collect()
        }

        /// Decodes a token made by [`encode`](Self::encode) for the same filter; the error says
        /// why it is refused. The tag is checked, in constant time, before anything in the
        /// payload is read.
        pub fn decode(&self, token: &str, filter: &[&str]) -> Result<Vec<String>, &'static str> {
            if !token.len().is_multiple_of(2) || !token.is_ascii() {
                return Err(INVALID);
            }
            let bytes = (0..token.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| INVALID)?;
            let (payload, tag) = bytes
                .split_at_checked(bytes.len().checked_sub(TAG_LEN).ok_or(INVALID)?)
                .ok_or(INVALID)?;
            hmac::verify(&self.0, payload, tag).map_err(|_| INVALID)?;
            let text = std::str::from_utf8(payload).map_err(|_| INVALID)?;
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
    }

    /// FNV-1a: stable across processes and builds, so every replica that shares the key accepts
    /// every token. The tag, not this hash, is what makes the token unforgeable.
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

    fn tokens(secret: &str, method: &str) -> page_token::Tokens {
        page_token::Key::from_secret(secret.as_bytes()).tokens(method)
    }

    const SECRET: &str = "a page token key of at least 32 bytes";

    #[test]
    fn page_tokens_round_trip_for_the_same_filter_only() {
        let tokens = tokens(SECRET, "ListRegions");
        let token = tokens.encode(&["province", "2024-06-01"], &["68", "1234"]);
        assert_eq!(
            tokens.decode(&token, &["province", "2024-06-01"]).unwrap(),
            ["68", "1234"]
        );
        assert!(
            tokens
                .decode(&token, &["province", "2025-08-01"])
                .unwrap_err()
                .contains("different filter")
        );
        assert!(
            tokens
                .decode("zz", &[])
                .unwrap_err()
                .contains("not a page token")
        );
        assert!(tokens.decode("abc", &[]).is_err());
        assert!(
            tokens
                .decode("", &[])
                .unwrap_err()
                .contains("not a page token")
        );
    }

    #[test]
    fn an_edited_page_token_is_refused() {
        let tokens = tokens(SECRET, "ListRegions");
        let filter = ["province", "2024-06-01"];
        let token = tokens.encode(&filter, &["68", "1234"]);
        for at in 0..token.len() {
            let mut edited = token.clone().into_bytes();
            edited[at] = if edited[at] == b'0' { b'1' } else { b'0' };
            let edited = String::from_utf8(edited).unwrap();
            assert!(
                tokens
                    .decode(&edited, &filter)
                    .unwrap_err()
                    .contains("not a page token this server issued"),
                "the token edited at {at} was accepted"
            );
        }
        // Another cursor in the payload, with the tag of the first or with none (the unsigned
        // tokens of before).
        let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
        let (payload, tag) = token.split_at(token.len() - 64);
        let payload: Vec<u8> = (0..payload.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&payload[i..i + 2], 16).unwrap())
            .collect();
        let other = String::from_utf8(payload).unwrap().replace("1234", "1");
        assert!(other.ends_with("\u{1f}68\u{1f}1"), "{other:?}");
        for forged in [
            format!("{}{tag}", hex(other.as_bytes())),
            hex(other.as_bytes()),
        ] {
            assert!(tokens.decode(&forged, &filter).is_err(), "{forged}");
        }
        // Cut short, or with bytes added.
        assert!(tokens.decode(&token[..token.len() - 2], &filter).is_err());
        assert!(tokens.decode(&format!("{token}00"), &filter).is_err());
    }

    #[test]
    fn page_tokens_of_another_key_or_method_are_refused() {
        let token = tokens(SECRET, "ListRegions").encode(&[], &["68"]);
        assert_eq!(
            tokens(SECRET, "ListRegions").decode(&token, &[]).unwrap(),
            ["68"]
        );
        for (secret, method) in [
            ("another page token key, 32 bytes or more", "ListRegions"),
            (SECRET, "ListIndicators"),
        ] {
            assert!(
                tokens(secret, method)
                    .decode(&token, &[])
                    .unwrap_err()
                    .contains("not a page token this server issued"),
                "{method} with {secret:?}"
            );
        }
        let random = page_token::Key::random().unwrap().tokens("ListRegions");
        assert!(random.decode(&token, &[]).is_err());
        assert_eq!(
            random.decode(&random.encode(&[], &["68"]), &[]).unwrap(),
            ["68"]
        );
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
