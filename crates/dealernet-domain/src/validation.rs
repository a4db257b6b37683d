//! Validation rules shared by the API and the SPA, and the conversion of `validator`'s errors into
//! the field errors both of them show.

use std::borrow::Cow;

use validator::{ValidationError, ValidationErrors, ValidationErrorsKind};

use crate::problem::FieldError;

/// Text must not consist of white space only.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(error("blank", "must not be blank"));
    }
    Ok(())
}

/// Text must not carry NUL or other control characters (tabs and new lines excepted).
pub fn no_control_chars(value: &str) -> Result<(), ValidationError> {
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(error(
            "control_character",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A phone number: digits with an optional leading `+`, spaces, dashes and parentheses, 5–20 digits.
pub fn phone(value: &str) -> Result<(), ValidationError> {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let shape_ok = value.chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (c == '+' && i == 0)
    });
    if !shape_ok || !(5..=20).contains(&digits) {
        return Err(error(
            "phone",
            "must be a phone number such as +7 495 123-45-67",
        ));
    }
    Ok(())
}

/// A password: 10–128 characters with at least one letter and one digit.
pub fn password(value: &str) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if !(10..=128).contains(&len) {
        return Err(error(
            "password_length",
            "must be 10 to 128 characters long",
        ));
    }
    if !value.chars().any(char::is_alphabetic) || !value.chars().any(|c| c.is_ascii_digit()) {
        return Err(error(
            "password_strength",
            "must contain a letter and a digit",
        ));
    }
    no_control_chars(value)
}

/// A seller code: 3–32 upper-case letters, digits or dashes.
pub fn seller_code(value: &str) -> Result<(), ValidationError> {
    let len = value.len();
    if !(3..=32).contains(&len)
        || !value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(error(
            "seller_code",
            "must be 3 to 32 upper-case letters, digits or dashes",
        ));
    }
    Ok(())
}

fn error(code: &'static str, message: &'static str) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(Cow::Borrowed(message));
    e
}

/// Flattens `validator`'s nested errors into one list of field errors (`items[2].name` for
/// nested ones), with a human message for every rule.
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(errs) => {
                for e in errs {
                    out.push(FieldError {
                        field: path.clone(),
                        code: e.code.to_string(),
                        message: message(e),
                    });
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

fn message(e: &ValidationError) -> String {
    if let Some(m) = &e.message {
        return m.to_string();
    }
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be {min} to {max} characters long"),
            (Some(min), None) => format!("must be at least {min} characters long"),
            (None, Some(max)) => format!("must be at most {max} characters long"),
            _ => "has the wrong length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        "email" => "must be an e-mail address".into(),
        "url" => "must be a URL".into(),
        "required" => "is required".into(),
        other => format!("is invalid ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_blank_text_are_refused() {
        assert!(no_control_chars("plain text\nwith a new line").is_ok());
        assert!(no_control_chars("nul\0byte").is_err());
        assert!(not_blank("  \t").is_err());
        assert!(not_blank(" a ").is_ok());
    }

    #[test]
    fn phones_passwords_and_seller_codes() {
        assert!(phone("+7 (495) 123-45-67").is_ok());
        assert!(phone("12").is_err());
        assert!(phone("12+345678").is_err());
        assert!(password("correct horse 9").is_ok());
        assert!(password("short1").is_err());
        assert!(password("no digits at all").is_err());
        assert!(seller_code("S-0042").is_ok());
        assert!(seller_code("s-42").is_err());
    }
}
