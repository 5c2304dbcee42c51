//! National identifiers and their check characters: the 居民身份证号码 (GB 11643-1999),
//! the 统一社会信用代码 (GB 32100-2015) with the 组织机构代码 inside it (GB 11714-1997),
//! and Chinese phone numbers. What a grid worker types is checked here before it is
//! written; the synthetic data set computes its numbers with the same functions.

/// Why a typed identifier is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidIdentifier {
    #[error("an ID number has 18 characters: 17 digits and a digit or X")]
    IdNumberShape,
    #[error("the ID number's birth date {0} is not a date")]
    IdNumberBirthDate(String),
    #[error("the ID number's check character should be {expected}: a digit is mistyped")]
    IdNumberCheck { expected: char },
    #[error(
        "a unified social credit code has 18 characters: digits and capitals other than I, O, S, V and Z"
    )]
    CreditCodeShape,
    #[error("the credit code's check character should be {expected}: a character is mistyped")]
    CreditCodeCheck { expected: char },
    #[error(
        "a phone number is an 11-digit mobile number (1 and 3 to 9, then 9 digits) or a landline with its area code (0431-88886666)"
    )]
    Phone,
}

/// The check character of an 18-digit 居民身份证号码 (ISO 7064 MOD 11-2) over its first
/// 17 digits; `None` if they are not 17 ASCII digits.
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

/// The characters of a 统一社会信用代码: digits and the capitals other than I, O, S, V
/// and Z; a character's value is its position.
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

/// The check character of a 9-character 组织机构代码 over its first 8 digits.
pub fn organization_code_check(first8: &str) -> Option<char> {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    if first8.len() != 8 {
        return None;
    }
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

/// An ID number as typed (a lowercase x accepted), checked: its shape, its birth date
/// and its check character. Returns it as stored (uppercase X).
pub fn id_number(typed: &str) -> Result<String, InvalidIdentifier> {
    let number = typed.trim().to_ascii_uppercase();
    let (first17, last) = number
        .split_at_checked(17)
        .filter(|(first17, last)| {
            first17.bytes().all(|b| b.is_ascii_digit())
                && matches!(last.as_bytes(), [b'0'..=b'9' | b'X'])
        })
        .ok_or(InvalidIdentifier::IdNumberShape)?;
    let birth = &first17[6..14];
    let (year, month, day) = (
        birth[..4].parse::<i32>().unwrap_or_default(),
        birth[4..6].parse::<u32>().unwrap_or_default(),
        birth[6..].parse::<u32>().unwrap_or_default(),
    );
    if !(1900..=2100).contains(&year) || chrono::NaiveDate::from_ymd_opt(year, month, day).is_none()
    {
        return Err(InvalidIdentifier::IdNumberBirthDate(birth.to_owned()));
    }
    let expected = id_number_check(first17).ok_or(InvalidIdentifier::IdNumberShape)?;
    if last.starts_with(expected) {
        Ok(number)
    } else {
        Err(InvalidIdentifier::IdNumberCheck { expected })
    }
}

/// A 统一社会信用代码 as typed (lowercase accepted), checked; returned uppercase.
pub fn credit_code(typed: &str) -> Result<String, InvalidIdentifier> {
    let code = typed.trim().to_ascii_uppercase();
    if code.len() != 18 || !code.bytes().all(|b| CREDIT_ALPHABET.contains(&b)) {
        return Err(InvalidIdentifier::CreditCodeShape);
    }
    let expected = credit_code_check(&code[..17]).ok_or(InvalidIdentifier::CreditCodeShape)?;
    if code.ends_with(expected) {
        Ok(code)
    } else {
        Err(InvalidIdentifier::CreditCodeCheck { expected })
    }
}

/// A phone number as typed (spaces and hyphens allowed), checked: a mobile number of 11
/// digits (`1`, then 3 to 9), or a landline of a 3- or 4-digit area code starting with
/// 0 and a 7- or 8-digit number. Returned as digits (a landline as `area-number`).
pub fn phone(typed: &str) -> Result<String, InvalidIdentifier> {
    let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidIdentifier::Phone);
    }
    let bytes = digits.as_bytes();
    if bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]) {
        return Ok(digits);
    }
    // A landline: where the area code ends is what was typed before the hyphen, or
    // else the usual lengths (010 and 02x have three digits).
    let area = match typed.split_once('-') {
        Some((area, _)) => area.trim().len(),
        None if bytes.get(1) == Some(&b'1') || bytes.get(1) == Some(&b'2') => 3,
        None => 4,
    };
    let number = bytes.len().saturating_sub(area);
    if bytes.first() == Some(&b'0') && (3..=4).contains(&area) && (7..=8).contains(&number) {
        Ok(format!("{}-{}", &digits[..area], &digits[area..]))
    } else {
        Err(InvalidIdentifier::Phone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_checked_by_shape_date_and_check_character() {
        assert_eq!(id_number_check("11010519491231002"), Some('X'));
        assert_eq!(id_number_check("1101051949123100"), None);
        assert_eq!(id_number_check("1101051949123100A"), None);
        assert_eq!(
            id_number(" 11010519491231002x "),
            Ok("11010519491231002X".to_owned())
        );
        assert_eq!(
            id_number("110105194912310021"),
            Err(InvalidIdentifier::IdNumberCheck { expected: 'X' })
        );
        assert_eq!(
            id_number("11010519491331002X"),
            Err(InvalidIdentifier::IdNumberBirthDate("19491331".to_owned()))
        );
        for shape in [
            "",
            "11010519491231002",
            "1101051949123100XX",
            "A1010519491231002X",
        ] {
            assert_eq!(
                id_number(shape),
                Err(InvalidIdentifier::IdNumberShape),
                "{shape}"
            );
        }
        // Multi-byte text never splits inside a character.
        assert_eq!(
            id_number("身份证号码身份证号"),
            Err(InvalidIdentifier::IdNumberShape)
        );
    }

    #[test]
    fn credit_codes_are_checked() {
        // A published code (深圳市腾讯计算机系统有限公司), and its organization code.
        assert_eq!(credit_code_check("91440300708461136"), Some('T'));
        assert_eq!(organization_code_check("70846113"), Some('6'));
        assert_eq!(
            credit_code("91440300708461136t"),
            Ok("91440300708461136T".to_owned())
        );
        assert_eq!(
            credit_code("91440300708461136U"),
            Err(InvalidIdentifier::CreditCodeCheck { expected: 'T' })
        );
        assert_eq!(
            credit_code("9144030070846113IT"),
            Err(InvalidIdentifier::CreditCodeShape)
        );
        assert_eq!(
            credit_code("914403"),
            Err(InvalidIdentifier::CreditCodeShape)
        );
    }

    #[test]
    fn phones_are_mobile_or_landline_with_area_code() {
        assert_eq!(phone("139 4321 8765"), Ok("13943218765".to_owned()));
        assert_eq!(phone("0437-3226688"), Ok("0437-3226688".to_owned()));
        assert_eq!(phone("010-88886666"), Ok("010-88886666".to_owned()));
        assert_eq!(phone("01088886666"), Ok("010-88886666".to_owned()));
        for bad in [
            "12345678901",
            "1394321876",
            "3226688",
            "0437-32266",
            "139432187a5",
            "",
        ] {
            assert_eq!(phone(bad), Err(InvalidIdentifier::Phone), "{bad}");
        }
    }
}
