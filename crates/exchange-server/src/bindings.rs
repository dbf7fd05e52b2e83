//! Which organization a caller's ARN belongs to: bindings `ARN_PATTERN=ORGANIZATION`, read in
//! order, the first match wins. Patterns are Vault's `bound_iam_principal_arn` and Datadog's
//! `arn_pattern`: `*` matches any run of characters (none included), everything else is
//! literal and case-sensitive (ARNs are).

use std::fmt;

/// One binding: ARNs matching `pattern` belong to `organization`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// An ARN with `*` wildcards (`arn:aws:iam::123456789012:role/agents-*`).
    pub pattern: String,
    /// The organization's name.
    pub organization: String,
}

/// Why a binding does not read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindingError {
    /// No `=` between the pattern and the organization.
    NoSeparator,
    /// The pattern does not start with `arn:` (the two sides swapped, or not an ARN).
    NotAnArn,
    /// Nothing after the last `=`.
    EmptyOrganization,
}

impl BindingError {
    /// A stable name for the reason, in snake case.
    pub fn code(&self) -> &'static str {
        match self {
            BindingError::NoSeparator => "no_separator",
            BindingError::NotAnArn => "not_an_arn",
            BindingError::EmptyOrganization => "empty_organization",
        }
    }
}

impl fmt::Display for BindingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BindingError::NoSeparator => "a binding is ARN_PATTERN=ORGANIZATION",
            BindingError::NotAnArn => "a binding's pattern starts with arn:",
            BindingError::EmptyOrganization => "a binding's organization is empty",
        })
    }
}

impl std::error::Error for BindingError {}

impl Binding {
    /// Reads `ARN_PATTERN=ORGANIZATION`, split at the **last** `=`: IAM role and user names (and
    /// paths) may hold `=` (they allow `+=,.@_-`), so a pattern may too, and an organization
    /// therefore cannot. Both sides are trimmed.
    pub fn parse(text: &str) -> Result<Binding, BindingError> {
        let (pattern, organization) = text.rsplit_once('=').ok_or(BindingError::NoSeparator)?;
        let (pattern, organization) = (pattern.trim(), organization.trim());
        if !pattern.starts_with("arn:") {
            return Err(BindingError::NotAnArn);
        }
        if organization.is_empty() {
            return Err(BindingError::EmptyOrganization);
        }
        Ok(Binding {
            pattern: pattern.to_string(),
            organization: organization.to_string(),
        })
    }

    /// Whether `arn` matches this binding's pattern.
    pub fn matches(&self, arn: &str) -> bool {
        glob(&self.pattern, arn)
    }
}

/// The first binding, in order, that matches any of `arns` (the caller passes the caller's ARN
/// and, for an assumed role, its role's ARN).
pub fn organization_for<'a>(bindings: &'a [Binding], arns: &[&str]) -> Option<&'a Binding> {
    bindings
        .iter()
        .find(|binding| arns.iter().any(|arn| binding.matches(arn)))
}

/// `*` matches any run of bytes, every other byte itself. Iterative, with one backtrack point
/// (the last `*` seen): a later `*` can absorb whatever an earlier one would, so only the last
/// needs retrying, and the work is at most `pattern.len() * text.len()` steps, never the
/// exponential blow-up of a recursive matcher on `a*a*a*...b`. Bytes rather than characters:
/// each literal run starts at a character boundary, so the answer is the same.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // The last `*`'s position, and where in the text its match currently ends.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // Let the last `*` take one more byte, and try the rest again from there.
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    pi = sp + 1;
                    ti = st + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(pattern: &str, organization: &str) -> Binding {
        Binding {
            pattern: pattern.into(),
            organization: organization.into(),
        }
    }

    #[test]
    fn parse_splits_at_the_last_equals() {
        assert_eq!(
            Binding::parse("arn:aws:iam::123456789012:role/agents-*=acme"),
            Ok(binding("arn:aws:iam::123456789012:role/agents-*", "acme"))
        );
        assert_eq!(
            Binding::parse(" arn:aws:iam::123456789012:role/team=a,b=c = acme "),
            Ok(binding("arn:aws:iam::123456789012:role/team=a,b=c", "acme"))
        );
        assert_eq!(
            Binding::parse("arn:aws:iam::1:role/x"),
            Err(BindingError::NoSeparator)
        );
        assert_eq!(
            Binding::parse("arn:aws:iam::1:role/x="),
            Err(BindingError::EmptyOrganization)
        );
        assert_eq!(
            Binding::parse("acme=arn:aws:iam::1:role/x"),
            Err(BindingError::NotAnArn)
        );
        assert_eq!(Binding::parse("=acme"), Err(BindingError::NotAnArn));
        assert_eq!(BindingError::NotAnArn.code(), "not_an_arn");
    }

    #[test]
    fn glob_cases() {
        let cases = [
            ("arn:aws:iam::1:role/a", "arn:aws:iam::1:role/a", true),
            ("arn:aws:iam::1:role/a", "arn:aws:iam::1:role/A", false),
            ("arn:aws:iam::1:role/*", "arn:aws:iam::1:role/", true),
            ("arn:aws:iam::1:role/*", "arn:aws:iam::1:role/x/y", true),
            (
                "arn:aws:iam::*:role/agent",
                "arn:aws:iam::2:role/agent",
                true,
            ),
            (
                "arn:aws:iam::*:role/agent",
                "arn:aws:iam::2:role/agents",
                false,
            ),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a*b*c", "abbbc", true),
            ("a*b*c", "acb", false),
            ("**a", "a", true),
            ("a?", "ab", false),
            ("é*", "éa", true),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(glob(pattern, text), want, "{pattern} {text}");
        }
        // The pattern that makes a recursive matcher exponential, at once here.
        let pattern = format!("{}b", "a*".repeat(50));
        assert!(!glob(&pattern, &"a".repeat(5000)));
    }

    #[test]
    fn first_binding_in_order() {
        let bindings = [
            binding("arn:aws:iam::1:role/admin", "ops"),
            binding("arn:aws:iam::1:role/*", "acme"),
            binding("arn:aws:iam::2:*", "other"),
        ];
        let found =
            |arns: &[&str]| organization_for(&bindings, arns).map(|b| b.organization.as_str());
        assert_eq!(found(&["arn:aws:iam::1:role/admin"]), Some("ops"));
        assert_eq!(found(&["arn:aws:iam::1:role/web"]), Some("acme"));
        // The session ARN matches nothing; its role's ARN does.
        assert_eq!(
            found(&[
                "arn:aws:sts::1:assumed-role/web/i-0",
                "arn:aws:iam::1:role/web"
            ]),
            Some("acme")
        );
        assert_eq!(
            found(&["arn:aws:iam::2:user/u", "arn:aws:iam::1:role/admin"]),
            Some("ops")
        );
        assert_eq!(found(&["arn:aws:iam::3:role/web"]), None);
        assert_eq!(found(&[]), None);
    }

    /// The reference: `m[i][j]` is whether the first `i` pattern bytes match the first `j`
    /// text bytes.
    fn reference(pattern: &[u8], text: &[u8]) -> bool {
        let mut m = vec![vec![false; text.len() + 1]; pattern.len() + 1];
        m[0][0] = true;
        for i in 1..=pattern.len() {
            for j in 0..=text.len() {
                m[i][j] = if pattern[i - 1] == b'*' {
                    m[i - 1][j] || (j > 0 && m[i][j - 1])
                } else {
                    j > 0 && m[i - 1][j - 1] && pattern[i - 1] == text[j - 1]
                };
            }
        }
        m[pattern.len()][text.len()]
    }

    #[test]
    fn glob_agrees_with_the_reference() {
        // xorshift64: a fixed sequence, no dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let (mut matched, mut total) = (0, 0);
        for _ in 0..600 {
            let pattern: String = (0..next(9))
                .map(|_| ['a', 'b', '*', ':'][next(4) as usize])
                .collect();
            for _ in 0..4 {
                let text: String = (0..next(12))
                    .map(|_| ['a', 'b', ':'][next(3) as usize])
                    .collect();
                let want = reference(pattern.as_bytes(), text.as_bytes());
                assert_eq!(glob(&pattern, &text), want, "{pattern:?} {text:?}");
                matched += usize::from(want);
                total += 1;
            }
        }
        // Both outcomes are exercised.
        assert!(
            matched > total / 20 && matched < total - total / 20,
            "{matched}/{total}"
        );
    }
}
