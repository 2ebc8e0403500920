//! Name folding: the key that makes region and indicator names searchable without regard to
//! case, Vietnamese diacritics or spacing, so that "lam dong", "Lâm Đồng" and "LÂM  ĐỒNG"
//! find the same region whichever Unicode normalization form the text arrived in.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds a name to its search key: decomposed (NFD) with combining marks dropped, `đ`/`Đ`
/// turned into `d`, lower-cased, runs of whitespace collapsed to one space and trimmed.
///
/// `"Đắk Nông"` → `"dak nong"`, `"Thành phố Hồ Chí Minh"` → `"thanh pho ho chi minh"`.
pub fn fold_name(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    let mut pending_space = false;
    for character in name.nfd().filter(|&c| !is_combining_mark(c)) {
        if character.is_whitespace() {
            pending_space = !folded.is_empty();
            continue;
        }
        if pending_space {
            folded.push(' ');
            pending_space = false;
        }
        match character {
            // Đ has no decomposition (the bar is not a combining mark), so NFD keeps it.
            // Ð/ð (eth) look the same and turn up in legacy-encoded Vietnamese text.
            'đ' | 'Đ' | 'ð' | 'Ð' => folded.push('d'),
            other => folded.extend(other.to_lowercase().filter(|&c| !is_combining_mark(c))),
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use unicode_normalization::UnicodeNormalization;

    use super::*;

    #[test]
    fn folds_vietnamese_names() {
        let cases = [
            ("Đắk Nông", "dak nong"),
            ("Thành phố Hồ Chí Minh", "thanh pho ho chi minh"),
            ("Lâm Đồng", "lam dong"),
            ("Bình Thuận", "binh thuan"),
            ("Thừa Thiên Huế", "thua thien hue"),
            ("Bà Rịa – Vũng Tàu", "ba ria – vung tau"),
            ("Lam Dong", "lam dong"),
        ];
        for (name, folded) in cases {
            assert_eq!(fold_name(name), folded, "{name}");
        }
    }

    #[test]
    fn folds_upper_case_including_d_with_stroke() {
        assert_eq!(fold_name("ĐẮK NÔNG"), "dak nong");
        assert_eq!(fold_name("ĐÀ NẴNG"), "da nang");
        assert_eq!(fold_name("đ"), "d");
        assert_eq!(fold_name("Ðà Nẵng"), "da nang");
    }

    #[test]
    fn nfc_and_nfd_input_fold_alike() {
        for name in [
            "Đắk Nông",
            "Thành phố Hồ Chí Minh",
            "Lâm Đồng",
            "Quảng Ngãi",
        ] {
            let composed: String = name.nfc().collect();
            let decomposed: String = name.nfd().collect();
            assert_ne!(composed, decomposed, "{name} must differ between forms");
            assert_eq!(fold_name(&composed), fold_name(&decomposed), "{name}");
            assert_eq!(fold_name(&composed), fold_name(name));
        }
    }

    #[test]
    fn collapses_and_trims_whitespace() {
        assert_eq!(fold_name("  Lâm \t Đồng\n"), "lam dong");
        assert_eq!(fold_name("Lâm\u{a0}Đồng"), "lam dong");
        assert_eq!(fold_name("   "), "");
        assert_eq!(fold_name(""), "");
    }

    #[test]
    fn folding_is_idempotent() {
        let once = fold_name("Thành phố Hồ Chí Minh");
        assert_eq!(fold_name(&once), once);
    }
}
