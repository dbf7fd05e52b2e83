//! The credentials documents: IMDS and the container endpoint (JSON with `Token`),
//! `credential_process` output (JSON, `Version` 1, with `SessionToken`) and STS answers (XML).
//! Errors name the field that is wrong, never a secret.

use std::fmt;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::ParsedCredentials;
use crate::time::parse_rfc3339;

/// Why a document gave no credentials (never holds a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentError {
    /// Not JSON of the expected shape (serde's reason, which quotes no values).
    NotJson(String),
    /// IMDS or the container endpoint answered a `Code` other than `Success`.
    Code(String),
    /// A field the credentials need is missing or empty.
    Missing(&'static str),
    /// `credential_process` output without `"Version": 1`.
    Version,
    /// `Expiration` is not an RFC 3339 date-time.
    Expiration(String),
    /// STS answered an error (`Code`, `Message`).
    Sts {
        /// The error code (`AccessDenied`, ...).
        code: String,
        /// Its message.
        message: String,
    },
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentError::NotJson(why) => write!(f, "the credentials are not JSON ({why})"),
            DocumentError::Code(code) => {
                write!(
                    f,
                    "the credentials document says Code {code:?}, not \"Success\""
                )
            }
            DocumentError::Missing(field) => write!(f, "the credentials lack {field}"),
            DocumentError::Version => f.write_str("the output must have \"Version\": 1"),
            DocumentError::Expiration(text) => {
                write!(f, "Expiration {text:?} is not an RFC 3339 date-time")
            }
            DocumentError::Sts { code, message } => write!(f, "{code} {message}"),
        }
    }
}

impl std::error::Error for DocumentError {}

/// The fields both JSON documents may have.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Json {
    version: Option<serde_json::Value>,
    code: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<Zeroizing<String>>,
    token: Option<Zeroizing<String>>,
    session_token: Option<Zeroizing<String>>,
    expiration: Option<String>,
}

fn json(body: &[u8]) -> Result<Json, DocumentError> {
    serde_json::from_slice(body).map_err(|e| {
        // serde_json's message quotes no input, only its position and the expected shape.
        DocumentError::NotJson(e.to_string())
    })
}

fn expiration(text: Option<String>) -> Result<Option<u64>, DocumentError> {
    text.map(|text| parse_rfc3339(&text).map_err(|_| DocumentError::Expiration(text)))
        .transpose()
}

fn keys(
    access_key_id: Option<String>,
    secret: Option<Zeroizing<String>>,
) -> Result<(String, Zeroizing<String>), DocumentError> {
    let access_key_id = access_key_id
        .filter(|k| !k.is_empty())
        .ok_or(DocumentError::Missing("AccessKeyId"))?;
    let secret = secret
        .filter(|s| !s.is_empty())
        .ok_or(DocumentError::Missing("SecretAccessKey"))?;
    Ok((access_key_id, secret))
}

/// The credentials JSON of IMDS and of the ECS/EKS container endpoint (`AccessKeyId`,
/// `SecretAccessKey`, `Token`, `Expiration`; `Code` when present must be `Success`). An
/// `Expiration` that is there must parse; an empty `Token` is none.
pub fn parse_endpoint_document(body: &[u8]) -> Result<ParsedCredentials, DocumentError> {
    let doc = json(body)?;
    if let Some(code) = doc.code.filter(|c| c != "Success") {
        return Err(DocumentError::Code(code));
    }
    let (access_key_id, secret_access_key) = keys(doc.access_key_id, doc.secret_access_key)?;
    Ok(ParsedCredentials {
        access_key_id,
        secret_access_key,
        session_token: doc.token.filter(|t| !t.is_empty()),
        expiration: expiration(doc.expiration)?,
    })
}

/// The output of a `credential_process` command: `Version` 1, `AccessKeyId`,
/// `SecretAccessKey`, optional `SessionToken` and `Expiration` (without it, the credentials
/// do not expire, as the AWS CLI reads it).
pub fn parse_process_output(stdout: &[u8]) -> Result<ParsedCredentials, DocumentError> {
    let doc = json(stdout)?;
    if doc.version.as_ref().and_then(serde_json::Value::as_u64) != Some(1) {
        return Err(DocumentError::Version);
    }
    let (access_key_id, secret_access_key) = keys(doc.access_key_id, doc.secret_access_key)?;
    Ok(ParsedCredentials {
        access_key_id,
        secret_access_key,
        session_token: doc.session_token.filter(|t| !t.is_empty()),
        expiration: expiration(doc.expiration)?,
    })
}

/// The text of the first `<name>` element (STS answers are small and flat enough), trimmed.
pub fn xml_text<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find('<')?;
    Some(xml[start..start + end].trim())
}

/// The `Credentials` of a successful `AssumeRole` or `AssumeRoleWithWebIdentity` answer. STS
/// credentials always expire: an answer without a parseable `Expiration` is an error, never
/// credentials that live forever.
pub fn parse_sts_credentials(xml: &str) -> Result<ParsedCredentials, DocumentError> {
    let field = |name: &'static str| {
        xml_text(xml, name)
            .filter(|v| !v.is_empty())
            .ok_or(DocumentError::Missing(name))
    };
    let access_key_id = field("AccessKeyId")?.to_string();
    let secret_access_key = Zeroizing::new(field("SecretAccessKey")?.to_string());
    let session_token = Some(Zeroizing::new(field("SessionToken")?.to_string()));
    let when = field("Expiration")?;
    let expiration =
        parse_rfc3339(when).map_err(|_| DocumentError::Expiration(when.to_string()))?;
    Ok(ParsedCredentials {
        access_key_id,
        secret_access_key,
        session_token,
        expiration: Some(expiration),
    })
}

/// The error of an STS answer that is not 200 (`Code` and `Message`, `?` when missing).
pub fn parse_sts_error(xml: &str) -> DocumentError {
    DocumentError::Sts {
        code: xml_text(xml, "Code").unwrap_or("?").to_string(),
        message: xml_text(xml, "Message").unwrap_or("").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_893_456_000; // 2030-01-01T00:00:00Z

    #[test]
    fn endpoint_documents() {
        let doc = br#"{"Code":"Success","AccessKeyId":"ASIA1","SecretAccessKey":"S","Token":"T","Expiration":"2030-01-01T00:00:00Z"}"#;
        let c = parse_endpoint_document(doc).unwrap();
        assert_eq!(c.access_key_id, "ASIA1");
        assert_eq!(c.session_token.as_deref().map(String::as_str), Some("T"));
        assert_eq!(c.expiration, Some(T));
        let eks = br#"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"","Expiration":"2030-01-01T00:00:00+00:00"}"#;
        let c = parse_endpoint_document(eks).unwrap();
        assert_eq!((c.session_token, c.expiration), (None, Some(T)));
        let refused = br#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"x"}"#;
        assert_eq!(
            parse_endpoint_document(refused),
            Err(DocumentError::Code("AssumeRoleUnauthorizedAccess".into()))
        );
        let bad_time =
            br#"{"AccessKeyId":"A","SecretAccessKey":"SECRETMARKER","Expiration":"soon"}"#;
        let why = parse_endpoint_document(bad_time).unwrap_err().to_string();
        assert!(
            why.contains("soon") && !why.contains("SECRETMARKER"),
            "{why}"
        );
        let why = parse_endpoint_document(b"{\"SecretAccessKey\":\"SECRETMARKER\"").unwrap_err();
        assert!(matches!(&why, DocumentError::NotJson(_)), "{why}");
        assert!(!why.to_string().contains("SECRETMARKER"), "{why}");
        assert_eq!(
            parse_endpoint_document(br#"{"AccessKeyId":"A"}"#),
            Err(DocumentError::Missing("SecretAccessKey"))
        );
    }

    /// `aws configure export-credentials --format process` writes `+00:00` offsets.
    #[test]
    fn process_output_of_aws_configure_export_credentials() {
        let out = br#"{"Version": 1, "AccessKeyId": "ASIAX", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "2030-01-01T00:00:00+00:00"}"#;
        let c = parse_process_output(out).unwrap();
        assert_eq!((c.access_key_id.as_str(), c.expiration), ("ASIAX", Some(T)));
        let no_expiry = br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S"}"#;
        assert_eq!(parse_process_output(no_expiry).unwrap().expiration, None);
        assert_eq!(
            parse_process_output(br#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"S"}"#),
            Err(DocumentError::Version)
        );
        assert_eq!(
            parse_process_output(br#"{"AccessKeyId":"A","SecretAccessKey":"S"}"#),
            Err(DocumentError::Version)
        );
    }

    const STS: &str = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";

    #[test]
    fn sts_answers() {
        let c = parse_sts_credentials(STS).unwrap();
        assert_eq!((c.access_key_id.as_str(), c.expiration), ("ASIA1", Some(T)));
        assert_eq!(
            parse_sts_credentials("<Error/>"),
            Err(DocumentError::Missing("AccessKeyId"))
        );
        let error = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>";
        assert_eq!(parse_sts_error(error).to_string(), "AccessDenied no");
    }

    /// STS credentials always expire: without a parseable Expiration they are refused.
    #[test]
    fn sts_answer_without_a_parseable_expiration_is_an_error() {
        let missing = STS.replace("<Expiration>2030-01-01T00:00:00Z</Expiration>", "");
        assert_eq!(
            parse_sts_credentials(&missing),
            Err(DocumentError::Missing("Expiration"))
        );
        let garbled = STS.replace("2030-01-01T00:00:00Z", "tomorrow");
        assert_eq!(
            parse_sts_credentials(&garbled),
            Err(DocumentError::Expiration("tomorrow".into()))
        );
    }
}
