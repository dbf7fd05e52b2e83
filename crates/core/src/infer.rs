//! The credential scope an AWS endpoint's hostname names: its service's signing name and its
//! region (`bucket.s3.dualstack.eu-west-1.amazonaws.com` is `s3` in `eu-west-1`). Every host
//! that lets a caller leave them out (the CLI, the npm package) asks here.

use alloc::borrow::Cow;
use alloc::string::String;

use crate::error::Error;
use crate::uri::Uri;

/// The service and region read from a request's host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InferredScope<'a> {
    /// The service's signing name (`s3`, `execute-api`, `sqs` for `queue.amazonaws.com`).
    pub service: Cow<'a, str>,
    /// The region, when the hostname says: an S3 Transfer Acceleration endpoint serves every
    /// region (the bucket's is signed), so it leaves the region to the caller.
    pub region: Option<Cow<'a, str>>,
}

/// The service and region of the AWS endpoint `uri` (or its `Host` header) names, as the AWS
/// SDKs name their endpoints: regional (`sts.eu-west-1.amazonaws.com`), global (`sts`, `iam`
/// and other `service.amazonaws.com`: `us-east-1`), S3's virtual-hosted, path-style, legacy
/// (`s3-us-west-2`), dualstack, FIPS, Transfer Acceleration and VPC endpoint names, the China
/// partition (`.amazonaws.com.cn`), `api.aws` dualstack names, Lambda function URLs
/// (`.lambda-url.REGION.on.aws`), and the S3-compatible hosts aws4fetch knows (Cloudflare R2,
/// Backblaze B2). IoT's and Application Auto Scaling's signing names depend on the path and on
/// `x-amz-target`, which are read from the request too.
///
/// Any other host (an S3-compatible store, a proxy, an IP address) is
/// [`Error::UnknownEndpoint`]: its service and region must be given.
pub fn infer_scope<'a>(
    uri: &'a str,
    headers: &[(&'a str, &'a str)],
) -> Result<InferredScope<'a>, Error> {
    let parsed = Uri::parse(uri)?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_matches([' ', '\t']))
    };
    let authority = header("host")
        .or(parsed.authority)
        .ok_or(Error::MissingHost)?;
    let host = host_name(authority);
    let target = header("x-amz-target").unwrap_or_default();
    if !host.bytes().any(|b| b.is_ascii_uppercase()) {
        let (service, region) =
            scope_of(host, parsed.path, target).ok_or(Error::UnknownEndpoint)?;
        return Ok(InferredScope {
            service: Cow::Borrowed(service),
            region: region.map(Cow::Borrowed),
        });
    }
    // Hostnames are case-insensitive; the scope is lowercase.
    let lower = host.to_ascii_lowercase();
    let (service, region) = scope_of(&lower, parsed.path, target).ok_or(Error::UnknownEndpoint)?;
    Ok(InferredScope {
        service: Cow::Owned(String::from(service)),
        region: region.map(|r| Cow::Owned(String::from(r))),
    })
}

/// The hostname of an authority: without port, brackets of an IPv6 literal kept, without the
/// trailing dot of a fully qualified name.
fn host_name(authority: &str) -> &str {
    let host = match authority.rfind(':') {
        Some(colon) if !authority[colon..].contains(']') => &authority[..colon],
        _ => authority,
    };
    host.strip_suffix('.').unwrap_or(host)
}

/// Hostname prefixes whose signing name differs (aws4fetch's table, and Bedrock's and AppSync's
/// endpoints).
const SIGNING_NAMES: [(&str, &str); 14] = [
    ("appstream2", "appstream"),
    ("appsync-api", "appsync"),
    ("bedrock-agent", "bedrock"),
    ("bedrock-agent-runtime", "bedrock"),
    ("bedrock-runtime", "bedrock"),
    ("cloudhsmv2", "cloudhsm"),
    ("email", "ses"),
    ("git-codecommit", "codecommit"),
    ("marketplace", "aws-marketplace"),
    ("mobile", "AWSMobileHubService"),
    ("mturk-requester-sandbox", "mturk-requester"),
    ("personalize-runtime", "personalize"),
    ("pinpoint", "mobiletargeting"),
    ("queue", "sqs"),
];

/// `(service, region)` of a lowercase hostname, None if it names no AWS endpoint.
fn scope_of<'h>(host: &'h str, path: &str, target: &str) -> Option<(&'h str, Option<&'h str>)> {
    if let Some(stem) = host.strip_suffix(".on.aws") {
        // FUNCTION_ID.lambda-url.REGION.on.aws
        let mut labels = stem.rsplit('.');
        let region = labels.next().filter(|r| is_region(r))?;
        return (labels.next() == Some("lambda-url") && labels.next().is_some())
            .then_some(("lambda", Some(region)));
    }
    if let Some(stem) = host.strip_suffix(".api.aws") {
        // SERVICE.REGION.api.aws: the dualstack endpoints.
        let mut labels = stem.rsplit('.');
        let region = labels.next().filter(|r| is_region(r))?;
        let service = labels.next().filter(|s| !s.is_empty())?;
        return Some((
            service.strip_suffix("-fips").unwrap_or(service),
            Some(region),
        ));
    }
    if host.ends_with(".r2.cloudflarestorage.com") {
        return Some(("s3", Some("auto")));
    }
    if let Some(stem) = host.strip_suffix(".backblazeb2.com") {
        // [BUCKET.]s3.REGION.backblazeb2.com
        let mut labels = stem.rsplit('.');
        let region = labels.next()?;
        return (labels.next() == Some("s3")).then_some(("s3", Some(region)));
    }
    let (stem, china) = match host.strip_suffix(".amazonaws.com") {
        Some(stem) => (stem, false),
        None => (host.strip_suffix(".amazonaws.com.cn")?, true),
    };
    // From the right: [vpce] [region] [dualstack] service, then whatever names a bucket, an
    // access point, an API or an account.
    let mut labels = stem.rsplit('.').peekable();
    labels.next_if_eq(&"vpce");
    let mut region = labels.next_if(|l| is_region(l));
    if region.is_none() && labels.next_if_eq(&"us-gov").is_some() {
        // iam.us-gov.amazonaws.com: the GovCloud partition's global endpoints.
        region = Some("us-gov-west-1");
    }
    labels.next_if_eq(&"dualstack");
    let label = labels.next().filter(|l| !l.is_empty())?;
    let label = label.strip_suffix("-fips").unwrap_or(label);
    // Public DNS names of instances and S3 website endpoints are not APIs.
    if label.starts_with("compute") || label.starts_with("s3-website") {
        return None;
    }
    if region.is_none() && !label.starts_with("s3") {
        // DOMAIN.REGION.SERVICE: OpenSearch (es) domains, OpenSearch Serverless collections.
        region = labels.peek().copied().filter(|l| is_region(l));
    }
    let service = match label {
        // s3-global: Multi-Region Access Points (NAME.mrap.accesspoint.s3-global), signed with
        // SigV4a for a region set, not for a region: none is inferred.
        "s3" | "s3-accelerate" | "s3-control" | "s3-accesspoint" | "s3-global" => "s3",
        "s3-external-1" => {
            region = region.or(Some("us-east-1"));
            "s3"
        }
        "iot" => iot_signing_name(host, path),
        "autoscaling" => match target.split('.').next() {
            Some("AnyScaleFrontendService") => "application-autoscaling",
            Some("AnyScaleScalingPlannerFrontendService") => "autoscaling-plans",
            _ => "autoscaling",
        },
        _ => match label
            .strip_prefix("s3-")
            .map(|r| r.strip_prefix("fips-").unwrap_or(r))
            .filter(|r| is_region(r))
        {
            // The legacy S3 names: s3-us-west-2.amazonaws.com, s3-fips-us-gov-west-1.
            Some(legacy_region) => {
                region = region.or(Some(legacy_region));
                "s3"
            }
            None if label.starts_with("s3express-") => "s3express",
            None => SIGNING_NAMES
                .iter()
                .find(|(prefix, _)| *prefix == label)
                .map_or(label, |(_, name)| name),
        },
    };
    if region.is_none() && label != "s3-accelerate" && label != "s3-global" {
        // Global endpoints sign for their partition's first region; globalaccelerator's is
        // us-west-2.
        region = Some(match (china, label) {
            (true, _) => "cn-north-1",
            (false, "globalaccelerator") => "us-west-2",
            (false, _) => "us-east-1",
        });
    }
    Some((service, region))
}

/// IoT's signing names: the control plane, the jobs data plane, MQTT over WebSocket, the data
/// plane.
fn iot_signing_name(host: &str, path: &str) -> &'static str {
    if host.starts_with("iot.") || host.starts_with("iot-fips.") {
        "execute-api"
    } else if host.starts_with("data.jobs.iot.") {
        "iot-jobs-data"
    } else if path == "/mqtt" {
        "iotdevicegateway"
    } else {
        "iotdata"
    }
}

/// Whether a label is a region name: two letters, one or more words, a number
/// (`us-east-1`, `us-gov-west-1`, `eu-isoe-west-1`, `cn-north-1`).
fn is_region(label: &str) -> bool {
    let mut parts = label.split('-');
    let two_letters = parts
        .next()
        .is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_lowercase()));
    let Some(number) = parts.next_back() else {
        return false;
    };
    let mut words = 0;
    for word in parts {
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            return false;
        }
        words += 1;
    }
    two_letters
        && words > 0
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(url: &str) -> (String, String) {
        scope_with(url, &[])
    }

    fn scope_with(url: &str, headers: &[(&str, &str)]) -> (String, String) {
        let scope = infer_scope(url, headers).unwrap_or_else(|e| panic!("{url}: {e}"));
        (
            scope.service.into_owned(),
            scope.region.map(Cow::into_owned).unwrap_or_default(),
        )
    }

    #[test]
    fn reads_the_real_hostname_shapes() {
        let table = [
            // Regional and global.
            ("https://sts.eu-west-1.amazonaws.com/", "sts", "eu-west-1"),
            ("https://sts.amazonaws.com/", "sts", "us-east-1"),
            ("https://iam.amazonaws.com/", "iam", "us-east-1"),
            (
                "https://dynamodb.ap-south-1.amazonaws.com",
                "dynamodb",
                "ap-south-1",
            ),
            (
                "https://sqs.us-gov-west-1.amazonaws.com/",
                "sqs",
                "us-gov-west-1",
            ),
            ("https://queue.amazonaws.com/123/q", "sqs", "us-east-1"),
            ("https://email.us-west-2.amazonaws.com/", "ses", "us-west-2"),
            (
                "https://globalaccelerator.amazonaws.com/",
                "globalaccelerator",
                "us-west-2",
            ),
            (
                "https://x.execute-api.us-east-1.amazonaws.com/prod",
                "execute-api",
                "us-east-1",
            ),
            ("https://STS.US-WEST-2.AMAZONAWS.COM/", "sts", "us-west-2"),
            ("https://sts.amazonaws.com.:443/", "sts", "us-east-1"),
            // S3: path-style, virtual-hosted (bucket names with dots and with "s3" in them),
            // legacy, dualstack, FIPS, acceleration, control, VPC endpoints.
            ("https://s3.amazonaws.com/bucket", "s3", "us-east-1"),
            ("https://bucket.s3.amazonaws.com/k", "s3", "us-east-1"),
            (
                "https://bucket.s3.us-west-2.amazonaws.com/k",
                "s3",
                "us-west-2",
            ),
            (
                "https://my.dotted.bucket.s3.eu-central-1.amazonaws.com/k",
                "s3",
                "eu-central-1",
            ),
            (
                "https://s3-logs.s3.us-east-2.amazonaws.com/k",
                "s3",
                "us-east-2",
            ),
            ("https://s3.s3.amazonaws.com/k", "s3", "us-east-1"),
            ("https://s3-us-west-2.amazonaws.com/b/k", "s3", "us-west-2"),
            (
                "https://bucket.s3-eu-west-1.amazonaws.com/k",
                "s3",
                "eu-west-1",
            ),
            ("https://s3-external-1.amazonaws.com/b", "s3", "us-east-1"),
            (
                "https://bucket.s3.dualstack.eu-west-1.amazonaws.com/k",
                "s3",
                "eu-west-1",
            ),
            (
                "https://s3-fips.us-gov-west-1.amazonaws.com/b",
                "s3",
                "us-gov-west-1",
            ),
            (
                "https://s3-fips.dualstack.us-east-2.amazonaws.com/b",
                "s3",
                "us-east-2",
            ),
            ("https://s3-accelerate.amazonaws.com/b/k", "s3", ""),
            (
                "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/k",
                "s3",
                "",
            ),
            (
                "https://bucket.s3-accelerate.dualstack.amazonaws.com/k",
                "s3",
                "",
            ),
            (
                "https://123456789012.s3-control.us-west-2.amazonaws.com/v20180820/jobs",
                "s3",
                "us-west-2",
            ),
            (
                "https://bucket.vpce-1a2b3c4d-5e6f.s3.us-east-1.vpce.amazonaws.com/k",
                "s3",
                "us-east-1",
            ),
            (
                "https://ap-123456789012.s3-object-lambda.us-west-2.amazonaws.com/k",
                "s3-object-lambda",
                "us-west-2",
            ),
            (
                "https://b.op-01ac5d28a6a232904.s3-outposts.us-west-2.amazonaws.com/k",
                "s3-outposts",
                "us-west-2",
            ),
            (
                "https://b--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com/k",
                "s3express",
                "us-west-2",
            ),
            // FIPS elsewhere.
            (
                "https://dynamodb-fips.us-east-1.amazonaws.com/",
                "dynamodb",
                "us-east-1",
            ),
            (
                "https://sts-fips.us-east-2.amazonaws.com/",
                "sts",
                "us-east-2",
            ),
            // China.
            (
                "https://lambda.cn-north-1.amazonaws.com.cn/",
                "lambda",
                "cn-north-1",
            ),
            (
                "https://bucket.s3.cn-northwest-1.amazonaws.com.cn/k",
                "s3",
                "cn-northwest-1",
            ),
            ("https://iam.amazonaws.com.cn/", "iam", "cn-north-1"),
            // api.aws dualstack, Lambda function URLs.
            ("https://ec2.us-east-1.api.aws/", "ec2", "us-east-1"),
            (
                "https://abcdef.lambda-url.ap-south-1.on.aws/",
                "lambda",
                "ap-south-1",
            ),
            // IoT.
            (
                "https://iot.us-east-1.amazonaws.com/things",
                "execute-api",
                "us-east-1",
            ),
            (
                "https://data.jobs.iot.us-east-1.amazonaws.com/",
                "iot-jobs-data",
                "us-east-1",
            ),
            (
                "https://abc-ats.iot.us-east-1.amazonaws.com/mqtt",
                "iotdevicegateway",
                "us-east-1",
            ),
            (
                "https://abc-ats.iot.us-east-1.amazonaws.com/topics/t",
                "iotdata",
                "us-east-1",
            ),
            // Region before the service; GovCloud's global endpoints; more signing names.
            (
                "https://search-dom-abc.eu-west-1.es.amazonaws.com/_search",
                "es",
                "eu-west-1",
            ),
            (
                "https://xyz.eu-west-1.aoss.amazonaws.com/",
                "aoss",
                "eu-west-1",
            ),
            ("https://iam.us-gov.amazonaws.com/", "iam", "us-gov-west-1"),
            (
                "https://s3-fips-us-gov-west-1.amazonaws.com/b",
                "s3",
                "us-gov-west-1",
            ),
            ("https://us-east-1.s3.amazonaws.com/k", "s3", "us-east-1"),
            (
                "https://bedrock-runtime.us-west-2.amazonaws.com/model/m/invoke",
                "bedrock",
                "us-west-2",
            ),
            (
                "https://x.appsync-api.us-east-1.amazonaws.com/graphql",
                "appsync",
                "us-east-1",
            ),
            (
                "https://ap-111122223333.s3-accesspoint.us-west-2.amazonaws.com/k",
                "s3",
                "us-west-2",
            ),
            (
                "https://ap-1.s3-accesspoint-fips.dualstack.us-east-1.amazonaws.com/k",
                "s3",
                "us-east-1",
            ),
            ("https://ec2-fips.us-east-1.api.aws/", "ec2", "us-east-1"),
            (
                "https://iot-fips.us-east-1.amazonaws.com/things",
                "execute-api",
                "us-east-1",
            ),
            // S3-compatible hosts aws4fetch knows.
            ("https://acct.r2.cloudflarestorage.com/b/k", "s3", "auto"),
            (
                "https://b.s3.us-west-004.backblazeb2.com/k",
                "s3",
                "us-west-004",
            ),
        ];
        for (url, service, region) in table {
            assert_eq!(scope(url), (service.into(), region.into()), "{url}");
        }
        // The Host header wins over the URI's authority.
        assert_eq!(
            scope_with(
                "http://127.0.0.1:9000/b",
                &[("Host", "b.s3.eu-north-1.amazonaws.com")]
            ),
            ("s3".into(), "eu-north-1".into())
        );
        let target = [(
            "X-Amz-Target",
            "AnyScaleFrontendService.DescribeScalableTargets",
        )];
        assert_eq!(
            scope_with("https://autoscaling.us-east-1.amazonaws.com/", &target),
            ("application-autoscaling".into(), "us-east-1".into())
        );
    }

    #[test]
    fn hosts_that_name_no_aws_endpoint_are_an_error() {
        for url in [
            "http://127.0.0.1:5000/bucket",
            "http://[::1]:9000/b",
            "https://minio.example.com/b",
            "https://amazonaws.com/",
            "https://x.on.aws/",
            "https://abc.lambda-url.nowhere.on.aws/",
            "https://example.com/.amazonaws.com",
            "https://ec2-1-2-3-4.compute-1.amazonaws.com/",
            "https://ec2-1-2-3-4.eu-west-1.compute.amazonaws.com/",
            "https://b.s3-website-us-east-1.amazonaws.com/",
            "https://b.s3-website.eu-west-1.amazonaws.com/",
        ] {
            assert_eq!(infer_scope(url, &[]), Err(Error::UnknownEndpoint), "{url}");
        }
        assert_eq!(infer_scope("/a", &[]), Err(Error::MissingHost));
        assert!(matches!(
            infer_scope("nope", &[]),
            Err(Error::InvalidUri(_))
        ));
    }

    #[test]
    fn region_names() {
        for region in [
            "us-east-1",
            "us-gov-west-1",
            "eu-isoe-west-1",
            "cn-north-1",
            "ap-southeast-5",
        ] {
            assert!(is_region(region), "{region}");
        }
        for label in [
            "s3",
            "s3-external-1",
            "us-east",
            "useast-1",
            "us--1",
            "u-east-1",
            "us-east-123",
            "dualstack",
        ] {
            assert!(!is_region(label), "{label}");
        }
    }
}
