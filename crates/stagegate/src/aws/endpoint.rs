//! Endpoint overrides. aws-config 0.56 predates `AWS_ENDPOINT_URL` support, so the gate reads the
//! standard variables itself: the service-specific one first, then the global one.

pub const GLOBAL_VAR: &str = "AWS_ENDPOINT_URL";

/// `service` is the upper-case suffix, e.g. `GAMESPARKS` for `AWS_ENDPOINT_URL_GAMESPARKS`.
pub fn endpoint_override(service: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    [format!("{GLOBAL_VAR}_{service}"), GLOBAL_VAR.to_owned()]
        .iter()
        .filter_map(|var| lookup(var))
        .map(|url| url.trim().to_owned())
        .find(|url| !url.is_empty())
}

pub fn from_env(service: &str) -> Option<String> {
    endpoint_override(service, |k| std::env::var(k).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn precedence() {
        assert_eq!(endpoint_override("SNS", lookup(&[])), None);
        assert_eq!(
            endpoint_override("SNS", lookup(&[("AWS_ENDPOINT_URL", "http://all")])),
            Some("http://all".into())
        );
        assert_eq!(
            endpoint_override(
                "SNS",
                lookup(&[
                    ("AWS_ENDPOINT_URL", "http://all"),
                    ("AWS_ENDPOINT_URL_SNS", " http://sns ")
                ])
            ),
            Some("http://sns".into())
        );
        assert_eq!(
            endpoint_override(
                "GAMESPARKS",
                lookup(&[
                    ("AWS_ENDPOINT_URL", "http://all"),
                    ("AWS_ENDPOINT_URL_SNS", "http://sns")
                ])
            ),
            Some("http://all".into())
        );
        assert_eq!(
            endpoint_override(
                "SNS",
                lookup(&[
                    ("AWS_ENDPOINT_URL_SNS", ""),
                    ("AWS_ENDPOINT_URL", "http://all")
                ])
            ),
            Some("http://all".into())
        );
    }
}
