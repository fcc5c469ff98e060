//! Syntax of a workspace-relative path, checked before the file system is touched.
//!
//! A path is accepted only in its normal form: components separated by single `/`, no `.` or
//! `..`, no empty component, no leading `/`, no backslash, no drive letter, no control
//! character. Being strict means the path a policy rule or a reviewer sees (`drafts/a.txt`) is
//! exactly the path that runs; `./drafts//a.txt` is refused rather than quietly normalised.

use crate::error::ArgError;

/// Longest accepted path, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;
/// Longest accepted component, in bytes (the common `NAME_MAX`).
pub const MAX_COMPONENT_BYTES: usize = 255;

/// What a valid path looks like; the `allowed` text of every path error.
pub const PATH_RULE: &str = "a relative path inside the workspace files folder, components separated by single `/`, without `.`, `..`, backslashes or control characters (for example `drafts/report.md`)";

/// Checks `path` (the value of argument `field`) and returns its components.
pub fn components<'a>(field: &str, path: &'a str) -> Result<Vec<&'a str>, ArgError> {
    let refuse = |problem: String| Err(ArgError::new(field, problem, PATH_RULE));
    if path.is_empty() {
        return refuse("is empty".to_owned());
    }
    if path.len() > MAX_PATH_BYTES {
        return refuse(format!(
            "is {} bytes long, over the limit of {MAX_PATH_BYTES}",
            path.len()
        ));
    }
    if path.contains('\0') {
        return refuse("contains a NUL byte".to_owned());
    }
    if path.chars().any(char::is_control) {
        return refuse("contains a control character".to_owned());
    }
    if path.starts_with('/') {
        return refuse("is an absolute path".to_owned());
    }
    if path.contains('\\') {
        return refuse("contains a backslash (a Windows separator or UNC form)".to_owned());
    }
    if has_drive_prefix(path) {
        return refuse("starts with a Windows drive letter".to_owned());
    }
    let parts: Vec<&str> = path.split('/').collect();
    for part in &parts {
        match *part {
            "" => return refuse("has an empty component (`//` or a trailing `/`)".to_owned()),
            "." => return refuse("has a `.` component".to_owned()),
            ".." => return refuse("has a `..` component".to_owned()),
            name if name.len() > MAX_COMPONENT_BYTES => {
                return refuse(format!(
                    "has a component of {} bytes, over the limit of {MAX_COMPONENT_BYTES}",
                    name.len()
                ))
            }
            _ => {}
        }
    }
    Ok(parts)
}

/// `C:` or `c:anything`: a drive-relative or drive-absolute Windows path.
fn has_drive_prefix(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(path: &str) -> String {
        components("path", path).unwrap_err().problem
    }

    #[test]
    fn accepts_normal_relative_paths() {
        assert_eq!(
            components("path", "drafts/q3 report.md").unwrap(),
            vec!["drafts", "q3 report.md"]
        );
        assert_eq!(components("path", "...").unwrap(), vec!["..."]);
        assert_eq!(components("path", ".hidden").unwrap(), vec![".hidden"]);
    }

    #[test]
    fn refuses_each_escape_form_with_its_own_problem() {
        assert_eq!(problem(""), "is empty");
        assert_eq!(problem("/etc/passwd"), "is an absolute path");
        assert_eq!(problem("../x"), "has a `..` component");
        assert_eq!(problem("a/../../x"), "has a `..` component");
        assert_eq!(problem("./a"), "has a `.` component");
        assert_eq!(
            problem("a//b"),
            "has an empty component (`//` or a trailing `/`)"
        );
        assert_eq!(
            problem("a/"),
            "has an empty component (`//` or a trailing `/`)"
        );
        assert_eq!(problem("a\0b"), "contains a NUL byte");
        assert_eq!(problem("a\nb"), "contains a control character");
        assert_eq!(problem("C:/Windows"), "starts with a Windows drive letter");
        assert_eq!(problem("c:x"), "starts with a Windows drive letter");
        assert_eq!(
            problem("\\\\server\\share"),
            "contains a backslash (a Windows separator or UNC form)"
        );
        assert_eq!(
            problem("a\\..\\b"),
            "contains a backslash (a Windows separator or UNC form)"
        );
    }

    #[test]
    fn refuses_overlong_paths_and_components() {
        let long_name = "n".repeat(MAX_COMPONENT_BYTES + 1);
        assert!(problem(&long_name).starts_with("has a component of 256 bytes"));
        let long_path = "a/".repeat(MAX_PATH_BYTES / 2) + "a";
        assert!(problem(&long_path).starts_with("is 4097 bytes long"));
    }
}
