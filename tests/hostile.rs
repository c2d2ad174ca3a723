//! Hostile and strange messages: each gets a correct classification or a
//! clean abstain, never a crash, and no reply can carry a mention.

use boundary_bot::classify::Outcome;
use boundary_bot::reply::Surface;

mod shipped;
use shipped::engine;

/// What a message must come out as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Crisis,
    Topic(&'static str),
    /// Not a topic reply and not crisis: silence or "did you mean".
    Abstain,
}

fn zalgo(text: &str) -> String {
    text.chars()
        .flat_map(|c| [c, '\u{0336}', '\u{0317}', '\u{0358}'])
        .collect()
}

fn cases() -> Vec<(&'static str, String, Expect)> {
    let story = "so this is a long one sorry. ".repeat(20);
    vec![
        (
            "4,000-character Nitro message about a hug",
            format!("{story}{}can i hug my therapist at our last session? {story}", "lorem ipsum dolor sit amet. ".repeat(100))
                .chars()
                .take(4000)
                .collect(),
            Expect::Topic("physical-touch"),
        ),
        ("zalgo topic", zalgo("can i hug my therapist"), Expect::Topic("physical-touch")),
        ("zalgo crisis", zalgo("i want to kill myself"), Expect::Crisis),
        (
            "right-to-left override inside words",
            "can i give my \u{202e}therapist\u{202c} a gift".into(),
            Expect::Topic("gifts"),
        ),
        (
            "zero-width joiners inside a topic word",
            "is it ok to g\u{200d}i\u{200d}ve my T a g\u{200b}ift".into(),
            Expect::Topic("gifts"),
        ),
        ("invisible character inside a crisis word", "thinking about s\u{200b}uicide again".into(), Expect::Crisis),
        ("soft hyphen inside a crisis word", "i want to k\u{00ad}ill myself".into(), Expect::Crisis),
        ("only emoji", "😭😭😭🙏💀🫠".into(), Expect::Abstain),
        ("only mentions", "<@123456789012345678> <@!234567890123456789> <@&345678901234567890>".into(), Expect::Abstain),
        ("@everyone with chatter", "@everyone @here good morning!!".into(), Expect::Abstain),
        (
            "role mention around a topic question",
            "<@&345678901234567890> @everyone is it weird to text my T at 2am".into(),
            Expect::Topic("contact-between-sessions"),
        ),
        (
            "markdown injection",
            "**[click](https://evil.example/@everyone)** # Heading\n> quote\n||can i date my therapist||".into(),
            Expect::Topic("romantic-feelings"),
        ),
        (
            "code-block injection",
            "```\n@everyone <@&1> [x](https://a.b)\n```\nmy counselor wants to refer me to someone else".into(),
            Expect::Topic("referral"),
        ),
        ("empty", String::new(), Expect::Abstain),
        ("whitespace only", " \n\t ".into(), Expect::Abstain),
        ("control characters", "\u{0000}\u{0007}\u{001b}[31m".into(), Expect::Abstain),
        ("lone surrogate replacement chars", "\u{fffd}\u{fffd}".into(), Expect::Abstain),
        ("fullwidth letters", "ｃａｎ ｉ ｈｕｇ ｍｙ ｔｈｅｒａｐｉｓｔ".into(), Expect::Topic("physical-touch")),
        ("100 KB of one letter", "a".repeat(100_000), Expect::Abstain),
        ("100 KB of words", "hug ".repeat(25_000), Expect::Abstain),
    ]
}

#[test]
fn hostile_messages_classify_or_abstain_cleanly() {
    let engine = engine();
    let mut failures = Vec::new();
    for (name, text, expect) in cases() {
        let (classification, reply) = engine.answer(&text, Surface::Discord);
        let got = match classification.outcome {
            Outcome::Crisis => Expect::Crisis,
            Outcome::Topic(t) => Expect::Topic(t),
            Outcome::Unsure | Outcome::Nothing => Expect::Abstain,
        };
        if got != expect {
            failures.push(format!("{name}: expected {expect:?}, got {got:?}"));
        }
        for part in [reply.title(), reply.body(), reply.footer()] {
            assert!(
                !part.contains("@everyone") && !part.contains("@here") && !part.contains("<@"),
                "{name}: mention leaked"
            );
        }
        assert_eq!(reply.footer(), engine.library().notice, "{name}: notice");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
