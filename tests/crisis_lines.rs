//! The shipped crisis lines: every region has what a member in crisis
//! needs, and a reply lists the member's own region first.

use std::path::Path;

use boundary_bot::content::Library;
use boundary_bot::regions::RegionHints;
use boundary_bot::reply::{self, ReplyKind};

fn library() -> Library {
    Library::load(Path::new("responses")).expect("shipped responses load")
}

#[test]
fn every_region_has_a_call_line_and_an_emergency_number() {
    let library = library();
    let regions = &library.crisis.regions;
    for code in ["US", "CA", "UK", "IE", "AU", "NZ"] {
        assert!(regions.iter().any(|r| r.code == code), "{code} is missing");
    }
    for r in regions {
        assert!(
            !r.emergency.trim().is_empty(),
            "{}: no emergency number",
            r.code
        );
        assert!(
            r.lines.iter().any(|l| l.kind.takes_calls()),
            "{}: no line that takes calls",
            r.code
        );
        for line in &r.lines {
            assert!(
                !line.hours.trim().is_empty(),
                "{}: {} has no hours",
                r.code,
                line.name
            );
        }
    }
}

#[test]
fn the_member_s_locale_comes_first_then_the_server_s_region() {
    let library = library();
    let position = |body: &str, name: &str| body.find(&format!("**{name}**"));
    let hints = |locale, server| RegionHints {
        locale,
        server,
        default: Some("US"),
    };

    let uk = reply::crisis(&library, hints(Some("en-GB"), None));
    let body = uk.body();
    assert!(position(body, "United Kingdom").is_some(), "{body}");
    assert!(
        position(body, "United States").is_none(),
        "only the member's region: {body}"
    );
    assert!(body.contains("116 123") && body.contains("999"), "{body}");

    let both = reply::crisis(&library, hints(Some("en-GB"), Some("AU")));
    let body = both.body();
    let (uk, au) = (
        position(body, "United Kingdom"),
        position(body, "Australia"),
    );
    assert!(
        uk.is_some() && au.is_some() && uk < au,
        "locale first, then the server: {body}"
    );

    let server_only = reply::crisis(&library, hints(None, Some("NZ")));
    assert!(
        position(server_only.body(), "New Zealand") == Some(0),
        "{}",
        server_only.body()
    );

    let fallback = reply::crisis(&library, hints(Some("ja"), None));
    assert!(
        position(fallback.body(), "United States") == Some(0),
        "the default region"
    );
    assert!(
        fallback.body().contains("findahelpline.com"),
        "the international fallback"
    );

    let resources = reply::resources(&library, hints(Some("fr"), None));
    let body = resources.body();
    assert!(position(body, "France") == Some(0), "{body}");
    for r in &library.crisis.regions {
        assert!(
            position(body, &r.name).is_some(),
            "/resources lists every region: {}",
            r.name
        );
    }
}

#[test]
fn the_watch_tier_opens_gently_and_the_crisis_reply_says_emergency_once() {
    let library = library();
    let hints = RegionHints {
        locale: Some("en-US"),
        ..Default::default()
    };
    let possible = reply::possible_crisis(&library, hints);
    assert_eq!(possible.kind(), ReplyKind::PossibleCrisis);
    assert_ne!(possible.title(), reply::crisis(&library, hints).title());
    assert!(possible.body().contains("988"));
    let crisis = reply::crisis(&library, hints);
    let body = crisis.body().to_lowercase();
    assert_eq!(
        body.matches("call the emergency number").count(),
        1,
        "{body}"
    );
    assert!(body.contains("worried about someone else"), "{body}");
    assert!(
        body.contains("distance between yourself"),
        "a stay-safe line: {body}"
    );
    assert!(body.contains("can ease"), "a line of hope: {body}");
}
