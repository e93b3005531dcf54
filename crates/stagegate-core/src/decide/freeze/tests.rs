//! Tests of `freeze`, beside it (the module is long enough without them).

use super::*;
use proptest::prelude::*;
use serde_json::json;
use time::macros::datetime;

fn windows(v: Value) -> Vec<FreezeWindow> {
    match parse_windows(&v, "input.freezeWindows") {
        Ok(w) => w,
        Err(e) => panic!("{v} rejected: {e}"),
    }
}

fn rejected(v: Value) -> InvalidInput {
    match parse_windows(&v, "input.freezeWindows") {
        Ok(w) => panic!("{v} accepted: {w:?}"),
        Err(e) => e,
    }
}

fn frozen(w: &[FreezeWindow], now: OffsetDateTime) -> ActiveFreeze {
    active(w, now).unwrap_or_else(|| panic!("not frozen at {now}"))
}

fn weekly(days: &[&str], from: &str, to: &str, zone: &str) -> Value {
    json!({"weekly": {"days": days, "from": from, "to": to, "timeZone": zone}})
}

#[test]
fn absolute_window_is_half_open() {
    let w = windows(
        json!([{"name": "launch week", "start": "2026-12-20T00:00:00Z",
                            "end": "2027-01-04T00:00:00+01:00"}]),
    );
    assert_eq!(active(&w, datetime!(2026-12-19 23:59:59.999 UTC)), None);
    let f = frozen(&w, datetime!(2026-12-20 00:00 UTC));
    assert_eq!(
        f,
        ActiveFreeze {
            name: Some("launch week".into()),
            since: datetime!(2026-12-20 00:00 UTC),
            until: datetime!(2027-01-03 23:00 UTC),
            open_ended: false,
        }
    );
    assert_eq!(f.until.offset(), UtcOffset::UTC);
    assert!(active(&w, datetime!(2027-01-03 22:59:59 UTC)).is_some());
    assert_eq!(active(&w, datetime!(2027-01-03 23:00 UTC)), None);
    // `now` in another offset is the same instant.
    assert_eq!(active(&w, datetime!(2027-01-04 00:00 +01:00)), None);
    assert!(active(&w, datetime!(2026-12-20 01:00 +01:00)).is_some());
    assert_eq!(active(&[], datetime!(2026-12-20 01:00 UTC)), None);
}

#[test]
fn weekly_window_crosses_midnight() {
    // 2026-06-05 is a Friday.
    let w = windows(json!([{"name": "weekend",
        "weekly": {"days": ["FRI", "SAT"], "from": "22:00", "to": "06:00"}}]));
    assert_eq!(active(&w, datetime!(2026-06-05 21:59 UTC)), None);
    let f = frozen(&w, datetime!(2026-06-05 22:00 UTC));
    assert_eq!(
        (f.since, f.until),
        (
            datetime!(2026-06-05 22:00 UTC),
            datetime!(2026-06-06 06:00 UTC)
        )
    );
    // Saturday morning belongs to Friday's occurrence.
    let f = frozen(&w, datetime!(2026-06-06 05:59 UTC));
    assert_eq!(f.since, datetime!(2026-06-05 22:00 UTC));
    assert_eq!(active(&w, datetime!(2026-06-06 06:00 UTC)), None);
    assert!(active(&w, datetime!(2026-06-07 03:00 UTC)).is_some());
    // Sunday night is not listed, so Monday morning is free.
    assert_eq!(active(&w, datetime!(2026-06-07 22:30 UTC)), None);
    assert_eq!(active(&w, datetime!(2026-06-08 03:00 UTC)), None);
    assert_eq!(
        next_start(&w, datetime!(2026-06-06 06:00 UTC)),
        Some(datetime!(2026-06-06 22:00 UTC))
    );
}

#[test]
fn weekly_to_midnight_and_whole_days() {
    let w = windows(json!([weekly(&["SUN"], "00:00", "24:00", "UTC")]));
    // 2026-06-07 is a Sunday.
    let f = frozen(&w, datetime!(2026-06-07 12:00 UTC));
    assert_eq!(
        (f.since, f.until),
        (
            datetime!(2026-06-07 00:00 UTC),
            datetime!(2026-06-08 00:00 UTC)
        )
    );
    assert_eq!(active(&w, datetime!(2026-06-08 00:00 UTC)), None);
    assert_eq!(active(&w, datetime!(2026-06-06 23:59 UTC)), None);
}

#[test]
fn berlin_spring_forward() {
    // 2026-03-29, Sunday: 02:00 CET becomes 03:00 CEST (01:00 UTC).
    let w = windows(json!([weekly(&["SAT"], "22:00", "06:00", "Europe/Berlin")]));
    let f = frozen(&w, datetime!(2026-03-28 21:00 UTC));
    // 22:00 CET to 06:00 CEST: seven hours of real time.
    assert_eq!(
        (f.since, f.until),
        (
            datetime!(2026-03-28 21:00 UTC),
            datetime!(2026-03-29 04:00 UTC)
        )
    );
    assert_eq!(active(&w, datetime!(2026-03-29 04:00 UTC)), None);
    // A week earlier, all in CET.
    let f = frozen(&w, datetime!(2026-03-22 04:30 UTC));
    assert_eq!(f.until, datetime!(2026-03-22 05:00 UTC));

    // 02:30 does not exist that day: it is read as 03:30 CEST (01:30 UTC).
    let w = windows(json!([weekly(&["SUN"], "02:30", "04:00", "Europe/Berlin")]));
    assert_eq!(active(&w, datetime!(2026-03-29 01:29 UTC)), None);
    let f = frozen(&w, datetime!(2026-03-29 01:30 UTC));
    assert_eq!(
        (f.since, f.until),
        (
            datetime!(2026-03-29 01:30 UTC),
            datetime!(2026-03-29 02:00 UTC)
        )
    );
    assert_eq!(
        next_start(&w, datetime!(2026-03-29 00:00 UTC)),
        Some(datetime!(2026-03-29 01:30 UTC))
    );
}

#[test]
fn berlin_fall_back() {
    // 2026-10-25, Sunday: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-03:00 happens twice.
    let w = windows(json!([weekly(&["SAT"], "22:00", "06:00", "Europe/Berlin")]));
    let f = frozen(&w, datetime!(2026-10-24 20:00 UTC));
    // 22:00 CEST to 06:00 CET: nine hours of real time.
    assert_eq!(
        (f.since, f.until),
        (
            datetime!(2026-10-24 20:00 UTC),
            datetime!(2026-10-25 05:00 UTC)
        )
    );
    assert_eq!(active(&w, datetime!(2026-10-24 19:59 UTC)), None);

    // The repeated 02:30-02:45 is its first occurrence, in summer time.
    let w = windows(json!([weekly(&["SUN"], "02:30", "02:45", "Europe/Berlin")]));
    let f = frozen(&w, datetime!(2026-10-25 00:30 UTC));
    assert_eq!(
        (f.since, f.until),
        (
            datetime!(2026-10-25 00:30 UTC),
            datetime!(2026-10-25 00:45 UTC)
        )
    );
    // The second 02:35 (CET) is not frozen.
    assert_eq!(active(&w, datetime!(2026-10-25 01:35 UTC)), None);
}

#[test]
fn new_york_office_hours_follow_dst() {
    let w = windows(json!([weekly(
        &["MON", "TUE", "WED", "THU", "FRI"],
        "09:00",
        "17:00",
        "America/New_York"
    )]));
    // Monday 2026-01-12 (EST, UTC-5) and Monday 2026-07-13 (EDT, UTC-4).
    let f = frozen(&w, datetime!(2026-01-12 14:00 UTC));
    assert_eq!(f.until, datetime!(2026-01-12 22:00 UTC));
    assert_eq!(active(&w, datetime!(2026-01-12 13:59 UTC)), None);
    let f = frozen(&w, datetime!(2026-07-13 13:00 UTC));
    assert_eq!(f.until, datetime!(2026-07-13 21:00 UTC));
    assert_eq!(active(&w, datetime!(2026-07-13 21:00 UTC)), None);
    // Friday 17:00 to Monday 09:00 is free.
    assert_eq!(
        next_start(&w, datetime!(2026-07-17 21:00 UTC)),
        Some(datetime!(2026-07-20 13:00 UTC))
    );

    // 2026-03-08: 02:00 EST becomes 03:00 EDT. 02:30-03:30 reads as 03:30-03:30 EDT: nothing.
    let w = windows(json!([weekly(
        &["SUN"],
        "02:30",
        "03:30",
        "America/New_York"
    )]));
    assert_eq!(active(&w, datetime!(2026-03-08 07:00 UTC)), None);
    assert_eq!(active(&w, datetime!(2026-03-08 07:30 UTC)), None);
    assert_eq!(
        next_start(&w, datetime!(2026-03-08 00:00 UTC)),
        Some(datetime!(2026-03-15 06:30 UTC))
    );
    // 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:30 is the first (EDT) one.
    let w = windows(json!([weekly(
        &["SUN"],
        "01:30",
        "02:30",
        "America/New_York"
    )]));
    let f = frozen(&w, datetime!(2026-11-01 05:30 UTC));
    assert_eq!(
        (f.since, f.until),
        (
            datetime!(2026-11-01 05:30 UTC),
            datetime!(2026-11-01 07:30 UTC)
        )
    );
}

#[test]
fn until_runs_through_overlapping_and_touching_windows() {
    // 2026-06-08 is a Monday.
    let w = windows(json!([
        {"name": "release", "start": "2026-06-08T10:00:00Z", "end": "2026-06-08T12:00:00Z"},
        weekly(&["MON"], "12:00", "13:00", "UTC"),
        {"start": "2026-06-08T12:30:00Z", "end": "2026-06-08T14:00:00Z"},
        {"name": "later", "start": "2026-06-08T14:00:01Z", "end": "2026-06-08T15:00:00Z"},
    ]));
    let f = frozen(&w, datetime!(2026-06-08 11:00 UTC));
    assert_eq!(f.name.as_deref(), Some("release"));
    assert_eq!(f.since, datetime!(2026-06-08 10:00 UTC));
    // Touching at 12:00, overlapping at 12:30; the gap of a second at 14:00 ends it.
    assert_eq!(f.until, datetime!(2026-06-08 14:00 UTC));
    // Inside two windows: the earliest start, the first named.
    let f = frozen(&w, datetime!(2026-06-08 12:45 UTC));
    assert_eq!(f.since, datetime!(2026-06-08 12:00 UTC));
    assert_eq!(f.name, None);
    let named_later = windows(json!([
        {"start": "2026-06-08T10:00:00Z", "end": "2026-06-08T12:00:00Z"},
        {"name": "b", "start": "2026-06-08T09:00:00Z", "end": "2026-06-08T11:00:00Z"},
    ]));
    let f = frozen(&named_later, datetime!(2026-06-08 10:30 UTC));
    assert_eq!(
        (f.name.as_deref(), f.since),
        (Some("b"), datetime!(2026-06-08 09:00 UTC))
    );
}

#[test]
fn until_chains_weekly_occurrences_across_weeks() {
    // Every night 20:00-08:00 but Saturday's, plus whole weekends: Friday night runs into
    // Monday morning.
    let w = windows(json!([
        weekly(
            &["SUN", "MON", "TUE", "WED", "THU", "FRI"],
            "20:00",
            "08:00",
            "UTC"
        ),
        weekly(&["SAT", "SUN"], "00:00", "24:00", "UTC"),
    ]));
    let f = frozen(&w, datetime!(2026-06-05 21:00 UTC));
    assert_eq!(f.until, datetime!(2026-06-08 08:00 UTC));
    let f = frozen(&w, datetime!(2026-06-07 23:59 UTC));
    assert_eq!(f.until, datetime!(2026-06-08 08:00 UTC));
    // A freeze ending exactly a week from now (where occurrences are computed up to) is
    // carried on by an occurrence starting there.
    let w = windows(json!([
        {"start": "2026-06-01T00:00:00Z", "end": "2026-06-08T12:00:00Z"},
        weekly(&["MON"], "12:00", "13:00", "UTC"),
    ]));
    let f = frozen(&w, datetime!(2026-06-01 12:00 UTC));
    assert_eq!(f.until, datetime!(2026-06-08 13:00 UTC));
}

#[test]
fn a_freeze_that_never_ends_stops_at_the_horizon() {
    let every_day = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    let w = windows(json!([weekly(
        &every_day,
        "00:00",
        "24:00",
        "Europe/Berlin"
    )]));
    let now = datetime!(2026-06-05 12:00 UTC);
    let f = frozen(&w, now);
    assert_eq!(f.until, now + HORIZON);
    assert!(f.open_ended);
    assert_eq!(next_start(&w, now), Some(datetime!(2026-06-05 22:00 UTC)));
    let long = windows(json!([{"start": "2026-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}]));
    let f = frozen(&long, now);
    assert_eq!((f.until, f.open_ended), (now + HORIZON, true));
    // Ending exactly at the horizon is also reported as the horizon.
    let exact = windows(json!([{"start": "2026-01-01T00:00:00Z",
                                "end": "2027-06-06T12:00:00Z"}]));
    assert_eq!(frozen(&exact, now).until, now + HORIZON);
    let short = windows(json!([{"start": "2026-01-01T00:00:00Z",
                                "end": "2027-06-06T11:59:59Z"}]));
    assert!(!frozen(&short, now).open_ended);
}

#[test]
fn next_start_is_strictly_after_now_and_bounded() {
    let w = windows(json!([
        {"start": "2026-06-10T00:00:00Z", "end": "2026-06-11T00:00:00Z"},
        {"start": "2028-01-01T00:00:00Z", "end": "2028-01-02T00:00:00Z"},
        weekly(&["WED"], "09:00", "10:00", "UTC"),
    ]));
    // 2026-06-03 is a Wednesday.
    assert_eq!(
        next_start(&w, datetime!(2026-06-03 08:00 UTC)),
        Some(datetime!(2026-06-03 09:00 UTC))
    );
    assert_eq!(
        next_start(&w, datetime!(2026-06-03 09:00 UTC)),
        Some(datetime!(2026-06-10 00:00 UTC))
    );
    let far = windows(json!([{"start": "2028-01-01T00:00:00Z", "end": "2028-01-02T00:00:00Z"}]));
    assert_eq!(next_start(&far, datetime!(2026-06-03 09:00 UTC)), None);
    assert_eq!(
        next_start(&far, datetime!(2027-01-01 00:00 UTC)),
        Some(datetime!(2028-01-01 00:00 UTC))
    );
    assert_eq!(next_start(&[], datetime!(2026-06-03 09:00 UTC)), None);
}

#[test]
fn parses_both_kinds_with_defaults() {
    let w = windows(json!([
        {"name": "weekend", "weekly": {"days": ["SAT", "SUN"], "from": "18:00", "to": "06:00",
                                      "timeZone": "europe/berlin"}},
        {"weekly": {"days": ["MON"], "from": "00:00", "to": "24:00"}},
    ]));
    let FreezeRule::Weekly(rule) = &w[0].rule else {
        panic!("weekly")
    };
    assert_eq!(rule.days, [Weekday::Sat, Weekday::Sun]);
    assert_eq!((rule.from.minutes(), rule.to.minutes()), (18 * 60, 6 * 60));
    // The database's spelling.
    assert_eq!(rule.time_zone.name(), "Europe/Berlin");
    let FreezeRule::Weekly(rule) = &w[1].rule else {
        panic!("weekly")
    };
    assert_eq!(rule.time_zone, Zone::utc());
    assert_eq!(rule.to, ClockTime::END_OF_DAY);
    assert_eq!(w[1].name, None);
    assert_eq!(windows(json!([])), vec![]);
}

#[test]
fn round_trips_through_the_state() {
    let input = json!([
        {"name": "launch week", "start": "2026-12-20T00:00:00Z",
         "end": "2027-01-04T00:00:00+01:00"},
        {"weekly": {"days": ["SAT", "SUN"], "from": "18:00", "to": "24:00",
                    "timeZone": "Europe/Berlin"}},
    ]);
    let w = windows(input.clone());
    let written = serde_json::to_value(&w).unwrap_or_default();
    assert_eq!(written, input);
    let read: Vec<FreezeWindow> = serde_json::from_value(written).unwrap_or_default();
    assert_eq!(read, w);
    // Read back in another zone, the same hours are another freeze.
    let mut elsewhere = input.clone();
    elsewhere[1]["weekly"]["timeZone"] = json!("America/New_York");
    assert_ne!(windows(elsewhere), w);
    // The state gets the input's rules.
    let bad = json!({"weekly": {"days": [], "from": "18:00", "to": "06:00"}});
    let e = serde_json::from_value::<FreezeWindow>(bad)
        .err()
        .map(|e| e.to_string());
    assert!(e.is_some_and(|e| e.contains("weekly.days: must list 1-7 days")));
    let f = ActiveFreeze {
        name: None,
        since: datetime!(2026-12-20 00:00 UTC),
        until: datetime!(2027-01-03 23:00 UTC),
        open_ended: false,
    };
    assert_eq!(
        serde_json::to_value(&f).unwrap_or_default(),
        json!({"name": null, "since": "2026-12-20T00:00:00Z",
               "until": "2027-01-03T23:00:00Z", "openEnded": false})
    );
}

#[test]
fn rejections_name_field_and_rule() {
    let abs = |start: &str, end: &str| json!([{"start": start, "end": end}]);
    let wk = |v: Value| {
        json!([{"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z"},
               {"weekly": v}])
    };
    let wk_ok = |k: &str, v: Value| {
        let mut w = json!({"days": ["SAT"], "from": "18:00", "to": "06:00"});
        w[k] = v;
        wk(w)
    };
    let many: Vec<Value> = (0..=MAX_WINDOWS)
        .map(|_| json!({"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}))
        .collect();
    let p = "input.freezeWindows";
    let cases: Vec<(Value, String, &str)> = vec![
        (
            wk_ok("timeZone", json!("Europe/Berln")),
            format!("{p}[1].weekly.timeZone"),
            "unknown time zone \"Europe/Berln\" (an IANA name such as Europe/Berlin or UTC)",
        ),
        (
            wk_ok("timeZone", json!("Etc/Unknown")),
            format!("{p}[1].weekly.timeZone"),
            "unknown time zone",
        ),
        (
            wk_ok("timeZone", json!("")),
            format!("{p}[1].weekly.timeZone"),
            "unknown time zone",
        ),
        (
            wk_ok("from", json!("24:00")),
            format!("{p}[1].weekly.from"),
            "HH:MM from 00:00 to 23:59, got \"24:00\"",
        ),
        (
            wk_ok("from", json!("9:00")),
            format!("{p}[1].weekly.from"),
            "HH:MM",
        ),
        (
            wk_ok("to", json!("12:60")),
            format!("{p}[1].weekly.to"),
            "HH:MM from 00:00 to 24:00, got \"12:60\"",
        ),
        (
            wk_ok("to", json!("24:01")),
            format!("{p}[1].weekly.to"),
            "HH:MM",
        ),
        (
            wk_ok("to", json!("06:00:00")),
            format!("{p}[1].weekly.to"),
            "HH:MM",
        ),
        (
            wk_ok("to", json!("18:00")),
            format!("{p}[1].weekly.to"),
            "must differ from `from` (18:00)",
        ),
        (
            wk_ok("to", json!(600)),
            format!("{p}[1].weekly.to"),
            "invalid type",
        ),
        (
            wk_ok("days", json!([])),
            format!("{p}[1].weekly.days"),
            "must list 1-7 days",
        ),
        (
            wk_ok("days", json!(["SAT", "SUN", "SAT"])),
            format!("{p}[1].weekly.days[2]"),
            "SAT is listed twice",
        ),
        (
            wk_ok("days", json!(["Sat"])),
            format!("{p}[1].weekly.days[0]"),
            "unknown variant `Sat`",
        ),
        (
            wk_ok("tz", json!("UTC")),
            format!("{p}[1].weekly.tz"),
            "unknown field `tz`",
        ),
        (
            wk(json!({"days": ["SAT"], "from": "18:00"})),
            format!("{p}[1].weekly.to"),
            "missing field `to`",
        ),
        (
            abs("2026-12-20T00:00:00Z", "2026-12-20T00:00:00Z"),
            format!("{p}[0].end"),
            "must be after start (2026-12-20T00:00:00Z), got 2026-12-20T00:00:00Z",
        ),
        (
            abs("2026-12-20T01:00:00+01:00", "2026-12-20T00:00:00Z"),
            format!("{p}[0].end"),
            "must be after start",
        ),
        (
            abs("2026-12-20T00:00:00", "2026-12-21T00:00:00Z"),
            format!("{p}[0].start"),
            "RFC 3339 timestamp with an offset",
        ),
        (
            abs("2026-12-20T00:00:00Z", "tomorrow"),
            format!("{p}[0].end"),
            "got \"tomorrow\"",
        ),
        (
            json!([{"start": "2026-12-20T00:00:00Z"}]),
            format!("{p}[0].end"),
            "missing field `end`",
        ),
        (
            json!([{"end": "2026-12-20T00:00:00Z"}]),
            format!("{p}[0].start"),
            "missing field `start`",
        ),
        (
            json!([{"name": "nothing"}]),
            format!("{p}[0].start"),
            "or `weekly`",
        ),
        (
            json!([{"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z",
                    "weekly": {"days": ["SAT"], "from": "18:00", "to": "06:00"}}]),
            format!("{p}[0].weekly"),
            "not both",
        ),
        (
            json!([{"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z",
                    "reason": "xmas"}]),
            format!("{p}[0].reason"),
            "unknown field `reason`",
        ),
        (
            json!([{"name": "", "weekly": {"days": ["SAT"], "from": "18:00", "to": "06:00"}}]),
            format!("{p}[0].name"),
            "must be 1-64 characters long, got 0",
        ),
        (
            json!([{"name": "n".repeat(65), "start": "2026-12-20T00:00:00Z",
                    "end": "2026-12-21T00:00:00Z"}]),
            format!("{p}[0].name"),
            "must be 1-64 characters long, got 65",
        ),
        (
            json!([{"name": "a\nb", "start": "2026-12-20T00:00:00Z",
                    "end": "2026-12-21T00:00:00Z"}]),
            format!("{p}[0].name"),
            "control characters",
        ),
        (
            json!(many),
            p.to_owned(),
            "must list at most 50 freeze windows, got 51",
        ),
        (json!({"start": "x"}), p.to_owned(), "must be an array"),
        (
            json!(["weekend"]),
            format!("{p}[0]"),
            "must be a freeze window",
        ),
    ];
    for (value, field, rule) in cases {
        let e = rejected(value.clone());
        assert_eq!(e.field, field, "{value}: {e}");
        assert!(e.rule.contains(rule), "{value}: {e}");
    }
    // The limits themselves are accepted.
    let fifty: Vec<Value> = many.into_iter().take(MAX_WINDOWS).collect();
    assert_eq!(windows(json!(fifty)).len(), MAX_WINDOWS);
    let longest = "n".repeat(MAX_NAME_CHARS);
    assert_eq!(
        windows(json!([{"name": longest, "weekly":
            {"days": ["SAT"], "from": "23:59", "to": "00:00"}}]))
        .len(),
        1
    );
}

#[test]
fn clock_times() {
    let parse = |s: &str| ClockTime::parse(s).map(|t| t.to_string());
    assert_eq!(parse("00:00").as_deref(), Some("00:00"));
    assert_eq!(parse("23:59").as_deref(), Some("23:59"));
    assert_eq!(parse("24:00").as_deref(), Some("24:00"));
    for bad in [
        "24:01",
        "25:00",
        "12:60",
        "1:00",
        "01:0",
        "0100",
        "01-00",
        "ab:cd",
        "",
        "٠١:٠٠",
    ] {
        assert_eq!(parse(bad), None, "{bad:?}");
    }
}

fn minutes(m: i64) -> OffsetDateTime {
    datetime!(2026-06-01 00:00 UTC) + Duration::minutes(m)
}

fn absolute(start: i64, len: i64) -> FreezeWindow {
    FreezeWindow {
        name: None,
        rule: FreezeRule::Absolute {
            start: minutes(start),
            end: minutes(start + len),
        },
    }
}

proptest! {
    #[test]
    fn active_is_some_exactly_inside_a_window(
        spans in proptest::collection::vec((0i64..5000, 1i64..600), 0..10),
        now in -100i64..6000,
    ) {
        let windows: Vec<FreezeWindow> =
            spans.iter().map(|&(s, l)| absolute(s, l)).collect();
        let now = minutes(now);
        let inside = |t: OffsetDateTime| {
            spans.iter().any(|&(s, l)| minutes(s) <= t && t < minutes(s + l))
        };
        let freeze = active(&windows, now);
        prop_assert_eq!(freeze.is_some(), inside(now));
        // Boundaries, which a random `now` rarely hits.
        for &(s, l) in &spans {
            prop_assert!(active(&windows, minutes(s)).is_some());
            let end = minutes(s + l);
            prop_assert_eq!(active(&windows, end).is_some(), inside(end), "at end {}", end);
        }
        if let Some(f) = freeze {
            prop_assert!(f.until > now);
            prop_assert!(f.since <= now);
            prop_assert!(!inside(f.until), "until {} is inside a window", f.until);
            prop_assert!(!f.open_ended);
            // No gap between now and until: every window end before `until` is covered.
            for &(s, l) in &spans {
                let end = minutes(s + l);
                if now < end && end < f.until {
                    prop_assert!(inside(end), "gap at {}", end);
                }
            }
            prop_assert!(next_start(&windows, now).into_iter().all(|n| n > now));
        } else {
            let next = spans.iter().map(|&(s, _)| minutes(s)).filter(|&s| s > now).min();
            prop_assert_eq!(next_start(&windows, now), next);
        }
    }

    #[test]
    fn weekly_freezes_in_dst_zones_are_consistent(
        rules in proptest::collection::vec(
            (proptest::collection::btree_set(0usize..7, 1..=3), 0u16..48, 1u16..=48, 0usize..5),
            1..4,
        ),
        at in 0i64..(366 * 1440),
    ) {
        let zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                     "Asia/Kolkata"];
        let all = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri,
                   Weekday::Sat, Weekday::Sun];
        let w: Vec<FreezeWindow> = rules
            .iter()
            .filter(|(_, from, to, _)| from != to)
            .map(|(days, from, to, zone)| FreezeWindow {
                name: None,
                rule: FreezeRule::Weekly(WeeklyRule {
                    days: days.iter().map(|&d| all[d]).collect(),
                    // Half hours, so that Lord Howe's 30-minute shift and DST gaps are hit.
                    from: ClockTime(from * 30 % 1440),
                    to: ClockTime(to * 30),
                    time_zone: Zone::get(zones[*zone]).unwrap_or_else(Zone::utc),
                }),
            })
            .collect();
        // Around both 2026 DST changes in the north and the south.
        let now = datetime!(2026-01-01 00:00 UTC) + Duration::minutes(at);
        match active(&w, now) {
            Some(f) => {
                prop_assert!(f.since <= now && now < f.until);
                prop_assert!(active(&w, f.until - Duration::nanoseconds(1)).is_some());
                prop_assert!(f.open_ended || active(&w, f.until).is_none());
            }
            None => {
                if let Some(next) = next_start(&w, now) {
                    prop_assert!(next > now);
                    prop_assert_eq!(active(&w, next).map(|f| f.since), Some(next));
                    // Nothing frozen in between.
                    prop_assert!(active(&w, next - Duration::nanoseconds(1)).is_none());
                }
            }
        }
    }

    #[test]
    fn weekly_utc_matches_minute_arithmetic(
        days in proptest::collection::btree_set(0usize..7, 1..=7),
        from in 0u16..1440,
        to in 1u16..=1440,
        at in 0i64..(14 * 1440),
    ) {
        prop_assume!(from != to);
        let all = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri,
                   Weekday::Sat, Weekday::Sun];
        let w = [FreezeWindow {
            name: None,
            rule: FreezeRule::Weekly(WeeklyRule {
                days: days.iter().map(|&d| all[d]).collect(),
                from: ClockTime(from),
                to: ClockTime(to),
                time_zone: Zone::utc(),
            }),
        }];
        // 2026-06-01 is a Monday: minute m of the fortnight is on weekday (m / 1440) % 7.
        let len = if to > from { i64::from(to - from) } else { i64::from(to + 1440 - from) };
        let inside = (-1i64..=1).any(|week| (0..7i64).any(|d| {
            let start = (week * 7 + d) * 1440 + i64::from(from);
            days.contains(&usize::try_from(d).unwrap_or(9)) && start <= at && at < start + len
        }));
        prop_assert_eq!(active(&w, minutes(at)).is_some(), inside);
    }
}

#[test]
fn a_start_is_refused_inside_a_freeze_and_within_the_guard_before_one() {
    let w = windows(
        json!([{"name": "evening", "start": "2026-03-01T18:00:00Z", "end": "2026-03-01T20:00:00Z"}]),
    );
    let at = |t: OffsetDateTime| refuses_start(&w, t).map(|f| (f.name, f.since, f.until));
    let evening = Some((
        Some("evening".to_owned()),
        datetime!(2026-03-01 18:00 UTC),
        datetime!(2026-03-01 20:00 UTC),
    ));
    assert_eq!(at(datetime!(2026-03-01 17:58:59 UTC)), None);
    // Within the guard: an attempt checking now could start inside the freeze.
    assert_eq!(at(datetime!(2026-03-01 17:59:00 UTC)), evening);
    assert_eq!(at(datetime!(2026-03-01 19:00:00 UTC)), evening);
    assert_eq!(at(datetime!(2026-03-01 20:00:00 UTC)), None);
}

#[test]
fn the_search_for_the_next_freeze_ends_at_the_end_of_time() {
    // A clock at the last representable day (a broken clock, or a test): the weeks ahead
    // saturate, and the search stops there instead of going round forever.
    let w = windows(json!([weekly(&["MON"], "09:00", "10:00", "UTC")]));
    let end = time::Date::MAX.midnight().assume_utc();
    assert_eq!(next_start(&w, end), None);
    assert_eq!(next_start(&[], end), None);
}
