//! How the gate writes times: RFC 3339, as Step Functions' `TimestampPath` and the message's
//! readers expect. Its own module because decisions (`classify`) and the state both use it, and
//! neither should depend on the other for it.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}
