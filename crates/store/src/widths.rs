//! How many characters the free-text columns hold (the migrations' `VARCHAR` widths), so that
//! writers can refuse longer input with a message instead of a failed statement.

/// `regions.name`, `regions.name_vi`, `indicators.name`, `indicators.name_vi`.
pub const NAME: usize = 255;
/// `regions.kind` (e.g. "Phường", "Thành phố").
pub const REGION_KIND: usize = 32;
/// `sources.name`, which observations and targets cite.
pub const SOURCE: usize = 255;
/// `observations.note`.
pub const NOTE: usize = 1024;
