//! URI path normalization (RFC 3986 section 5.2.4 dot-segment removal, plus collapsing repeated
//! slashes), which every service but S3 applies before computing the canonical URI.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// Normalizes an absolute path: `.` and empty segments go, `..` removes its parent, a trailing
/// slash stays (`/a/b/..` becomes `/a/`).
pub(crate) fn normalize(path: &str) -> Cow<'_, str> {
    // A byte search, not `str::contains`: the substring searcher would add 2 KB to the wasm.
    let double_slash = path.as_bytes().windows(2).any(|w| w == b"//");
    if !double_slash && !path.split('/').any(|s| s == "." || s == "..") {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    let ends_as_directory = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if out.is_empty() || (ends_as_directory && !out.ends_with('/')) {
        out.push('/');
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_suite_and_rfc3986() {
        for (input, expected) in [
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/a/b/../c/./d", "/a/c/d"),
            ("/a/b/.", "/a/b/"),
            ("/../../a", "/a"),
            ("/a/..b/.c", "/a/..b/.c"),
            ("/a/b/..", "/a/"),
        ] {
            assert_eq!(normalize(input), expected, "{input}");
        }
    }
}
