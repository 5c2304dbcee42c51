//! National identifier formats, with their real check characters, so that the synthetic
//! numbers pass the validation the gateway (or a department system) may apply.

/// The check character of an 18-digit 居民身份证号码 (GB 11643-1999, ISO 7064 MOD 11-2)
/// over its first 17 digits; `None` if they are not 17 ASCII digits.
pub fn id_number_check(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, weight) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * weight;
    }
    Some(CHECK[(sum % 11) as usize])
}

/// A 居民身份证号码: six-digit region, birth date, three-digit sequence (odd for men),
/// check character.
pub fn id_number(region: &str, year: i64, month: u32, day: u32, sequence: u32) -> String {
    let mut number = format!("{region}{year:04}{month:02}{day:02}{sequence:03}");
    if let Some(check) = id_number_check(&number) {
        number.push(check);
    }
    number
}

/// The characters of a 统一社会信用代码 (GB 32100-2015): digits and the capitals other
/// than I, O, S, V and Z; a character's value is its position.
const CREDIT_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The check character of a 统一社会信用代码 over its first 17 characters.
pub fn credit_code_check(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (byte, weight) in first17.bytes().zip(WEIGHTS) {
        let value = CREDIT_ALPHABET.iter().position(|&c| c == byte)? as u32;
        sum += value * weight;
    }
    let check = (31 - sum % 31) % 31;
    Some(char::from(CREDIT_ALPHABET[check as usize]))
}

/// The check character of a 9-character 组织机构代码 (GB 11714-1997) over its first 8 digits.
fn organization_code_check(first8: &str) -> Option<char> {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let mut sum = 0;
    for (c, weight) in first8.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * weight;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        check => char::from_digit(check, 10)?,
    })
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
    fn id_number_check_digit_matches_the_standard() {
        assert_eq!(id_number_check("11010519491231002"), Some('X'));
        assert_eq!(id_number("110105", 1949, 12, 31, 2), "11010519491231002X");
        assert_eq!(id_number_check("1101051949123100"), None);
        assert_eq!(id_number_check("1101051949123100A"), None);
    }

    #[test]
    fn credit_codes_are_valid_and_distinct() {
        // A published code (深圳市腾讯计算机系统有限公司).
        assert_eq!(credit_code_check("91440300708461136"), Some('T'));
        assert_eq!(organization_code_check("70846113"), Some('6'));
        let mut seen = HashSet::new();
        for index in 0..20_000 {
            let code = credit_code("91", "220402", index);
            assert_eq!(code.len(), 18);
            assert_eq!(credit_code_check(&code[..17]), code.chars().last());
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
