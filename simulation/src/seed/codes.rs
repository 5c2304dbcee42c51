//! National identifier formats, with their real check characters (computed by the
//! gateway's own [`schema::identifiers`]), so that the synthetic numbers pass the
//! validation the gateway (or a department system) applies.

use schema::identifiers::{credit_code_check, id_number_check, organization_code_check};

/// A 居民身份证号码: six-digit region, birth date, three-digit sequence (odd for men),
/// check character.
pub fn id_number(region: &str, year: i64, month: u32, day: u32, sequence: u32) -> String {
    let mut number = format!("{region}{year:04}{month:02}{day:02}{sequence:03}");
    if let Some(check) = id_number_check(&number) {
        number.push(check);
    }
    number
}

/// A 统一社会信用代码 for the `index`-th organization: registering authority and category
/// (`kind`, e.g. "91" for a company), the region, an organization code made from the index
/// and the check character. Distinct indexes (below 10^8) give distinct codes: the index
/// is scrambled by a bijection of `0..10^8` so that codes do not look sequential.
pub fn credit_code(kind: &str, region: &str, index: u64) -> String {
    const SPACE: u64 = 100_000_000;
    // 48_271 is coprime with 10^8, so this is a permutation of 0..10^8.
    let body = (index % SPACE * 48_271 + 13_579_246) % SPACE;
    let body = format!("{body:08}");
    let mut code = format!("{kind}{region}{body}");
    if let Some(check) = organization_code_check(&body) {
        code.push(check);
    }
    if let Some(check) = credit_code_check(&code) {
        code.push(check);
    }
    code
}

/// Letters used on plates (I and O are not, to avoid confusion with 1 and 0).
const PLATE_LETTERS: &[u8; 24] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A Liaoyuan number plate (吉D) for the `index`-th vehicle, distinct for indexes below
/// 240,000: one letter and four digits, the index scrambled by a bijection.
pub fn plate(index: u64) -> String {
    const SPACE: u64 = 24 * 10_000;
    // 7_919 is prime and does not divide 240,000, hence coprime with it.
    let value = (index % SPACE * 7_919 + 104_729) % SPACE;
    let letter = char::from(PLATE_LETTERS[(value / 10_000) as usize]);
    format!("吉D·{letter}{:04}", value % 10_000)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn id_numbers_and_credit_codes_pass_the_gateway_s_checks() {
        assert_eq!(id_number("110105", 1949, 12, 31, 2), "11010519491231002X");
        assert!(schema::identifiers::id_number(&id_number("220422", 1980, 2, 29, 17)).is_ok());
        let mut seen = HashSet::new();
        for index in 0..20_000 {
            let code = credit_code("91", "220402", index);
            assert_eq!(schema::identifiers::credit_code(&code), Ok(code.clone()));
            assert!(seen.insert(code));
        }
    }

    #[test]
    fn plates_are_distinct() {
        let mut seen = HashSet::new();
        for index in 0..240_000 {
            assert!(seen.insert(plate(index)));
        }
        assert!(plate(0).starts_with("吉D·"));
    }
}
