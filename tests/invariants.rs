//! Safety invariants as properties over arbitrary input:
//! every reply carries the referral notice, no reply can ping anyone or
//! echo a mention from the input, and crisis beats every topic.

use boundary_bot::classify::Outcome;
use boundary_bot::reply::{self, Reply, ReplyKind, Surface};
use proptest::prelude::*;

mod shipped;
use shipped::engine;

fn assert_safe(reply: &Reply) {
    let notice = &engine().library().notice;
    assert_eq!(reply.footer(), notice.as_str(), "the notice is the footer");
    for text in [reply.title(), reply.body(), reply.footer()] {
        assert!(!text.contains("@everyone"), "{text}");
        assert!(!text.contains("@here"), "{text}");
        assert!(!text.contains("<@"), "{text}");
    }
}

/// Text that looks like what members (and trolls) post.
fn message() -> impl Strategy<Value = String> {
    let pieces = prop::collection::vec(
        prop_oneof![
            any::<String>(),
            "[a-z ]{0,40}",
            Just("@everyone ".to_string()),
            Just("@here ".to_string()),
            Just("<@&123456789012345678> ".to_string()),
            Just("<@!123456789012345678> ".to_string()),
            Just("my T ".to_string()),
            Just("can i hug my therapist ".to_string()),
            Just("gift ".to_string()),
            Just("```\n@everyone\n``` ".to_string()),
            Just("||spoiler|| ".to_string()),
            Just("\u{200b}\u{202e}".to_string()),
        ],
        0..8,
    );
    pieces.prop_map(|p| p.concat())
}

const CRISIS: [&str; 6] = [
    "i want to kms",
    "honestly i just want to die",
    "everyone would be better off without me",
    "im not suicidal but i wish an accident would take me",
    "ive been stockpiling my pills",
    "i started cutting myself again",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_reply_carries_the_notice_and_pings_nobody(text in message()) {
        let engine = engine();
        for surface in [Surface::Discord, Surface::Console] {
            let (_, reply) = engine.answer(&text, surface);
            assert_safe(&reply);
        }
    }

    #[test]
    fn crisis_beats_every_topic(
        topic in 0usize..17,
        example in 0usize..8,
        crisis in 0usize..CRISIS.len(),
        before in any::<bool>(),
    ) {
        let engine = engine();
        let t = &engine.library().topics[topic];
        let question = &t.matching.examples[example % t.matching.examples.len()];
        let text = if before {
            format!("{} {}", CRISIS[crisis], question)
        } else {
            format!("{}. {}", question, CRISIS[crisis])
        };
        let (classification, reply) = engine.answer(&text, Surface::Discord);
        prop_assert_eq!(classification.outcome, Outcome::Crisis);
        prop_assert_eq!(reply.kind(), ReplyKind::Crisis);
    }

    #[test]
    fn classify_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let c = engine().classify(&text);
        prop_assert!(c.confidence.is_finite());
        prop_assert!(c.candidates.len() <= 3);
    }
}

#[test]
fn every_fixed_reply_carries_the_notice() {
    let engine = engine();
    let library = engine.library();
    let mut replies = vec![
        reply::crisis(library, Default::default()),
        reply::resources(library, Default::default()),
        reply::help(library, Surface::Discord),
        reply::topic_list(library, Surface::Discord),
    ];
    replies.extend(library.topics.iter().map(|t| reply::guidance(library, t)));
    for r in &replies {
        assert_safe(r);
    }
}

#[test]
fn crisis_reply_lists_the_resources_first() {
    let r = reply::crisis(engine().library(), Default::default());
    let body = r.body();
    for needle in [
        "988",
        "741741",
        "116 123",
        "13 11 14",
        "findahelpline.com",
        "Emergency services: 999",
        "call the emergency number",
    ] {
        assert!(body.contains(needle), "missing {needle}");
    }
    let message = engine().library().crisis.message.trim().to_string();
    assert!(body.find("988").unwrap() < body.find(&message).unwrap_or(usize::MAX));
}

#[test]
fn everyday_idioms_are_not_crisis() {
    for text in [
        "lol im killing it today",
        "i died laughing at that",
        "this game is killing me",
        "im ending it with my therapist next week",
        "should i end it with my bf?",
        "i killed it at my presentation",
        "my phone is dead",
        "this homework is killing me",
    ] {
        assert_ne!(engine().classify(text).outcome, Outcome::Crisis, "{text}");
    }
}

#[test]
fn oblique_and_denied_crisis_is_caught() {
    for text in CRISIS.iter().copied().chain([
        "pills stockpiled in my drawer just in case",
        "im writing goodbye notes to everyone",
        "i'd rather never wake up tbh",
        "gonna unalive myself",
        "kinda wanna die",
        "it ends tonight",
        "if i die who gets my cat",
        "s\u{200b}uicide has been on my mind",
        "i keep thinking about ||killing myself||",
    ]) {
        assert_eq!(engine().classify(text).outcome, Outcome::Crisis, "{text}");
    }
}
