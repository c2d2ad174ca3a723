//! Shards: which of the bot's gateway shards this process runs
//! (`[discord] shards`), and the shard a guild's events arrive on.
//!
//! Discord splits a large bot's guilds over `total` shards by id:
//! guild `g` is on shard `(g >> 22) % total`. Direct messages always
//! arrive on shard 0, so the process running shard 0 is the one that
//! answers DMs; it is also the one that registers the slash commands,
//! so several processes do not register them again and again.

use serde::Deserialize;

/// `[discord] shards`: `"auto"` (the default: one process runs every shard
/// Discord recommends), or `{ total = 4, range = [0, 1] }`: this process
/// runs shards 0 and 1 (inclusive) of 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "ShardsToml")]
pub enum Shards {
    #[default]
    Auto,
    Range(ShardRange),
}

/// Shards `first..=last` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    pub total: u32,
    pub first: u32,
    pub last: u32,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ShardsToml {
    Word(String),
    Range(RangeToml),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeToml {
    total: u32,
    range: [u32; 2],
}

impl TryFrom<ShardsToml> for Shards {
    type Error = String;

    fn try_from(t: ShardsToml) -> Result<Self, String> {
        match t {
            ShardsToml::Word(w) if w == "auto" => Ok(Shards::Auto),
            ShardsToml::Word(w) => Err(format!(
                "{w:?} is not a shard setting: write \"auto\" or {{ total = 2, range = [0, 0] }}"
            )),
            ShardsToml::Range(r) => Ok(Shards::Range(ShardRange {
                total: r.total,
                first: r.range[0],
                last: r.range[1],
            })),
        }
    }
}

impl Shards {
    /// What is wrong with this setting, if anything, and the fix.
    pub fn problem(&self) -> Option<(String, &'static str)> {
        let Shards::Range(r) = self else {
            return None;
        };
        if r.total == 0 {
            return Some((
                "total is 0".into(),
                "give the number of shards of the whole bot (1 or more)",
            ));
        }
        if r.first > r.last || r.last >= r.total {
            return Some((
                format!(
                    "range [{}, {}] is not within shards 0 to {}",
                    r.first,
                    r.last,
                    r.total - 1
                ),
                "give the first and last shard this process runs, each below total",
            ));
        }
        None
    }

    /// Whether this process runs shard 0: it answers DMs and registers
    /// the slash commands.
    pub fn runs_shard_zero(&self) -> bool {
        match self {
            Shards::Auto => true,
            Shards::Range(r) => r.first == 0,
        }
    }
}

/// The shard that receives a guild's events (`None`: a DM, always shard 0).
pub fn shard_of(guild_id: Option<u64>, total: u32) -> u32 {
    match guild_id {
        Some(g) if total > 0 => ((g >> 22) % u64::from(total)) as u32,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        shards: Shards,
    }

    fn parse(text: &str) -> Result<Shards, String> {
        toml::from_str::<T>(text)
            .map(|t| t.shards)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn auto_or_a_range_of_the_total() {
        assert_eq!(parse("shards = \"auto\"").unwrap(), Shards::Auto);
        let two = parse("shards = { total = 2, range = [1, 1] }").unwrap();
        assert_eq!(
            two,
            Shards::Range(ShardRange {
                total: 2,
                first: 1,
                last: 1
            })
        );
        assert!(!two.runs_shard_zero() && Shards::Auto.runs_shard_zero());
        assert!(parse("shards = \"all\"")
            .unwrap_err()
            .contains("not a shard setting"));
        assert!(parse("shards = { total = 2, range = [0, 0], extra = 1 }").is_err());
        for bad in [
            "{ total = 0, range = [0, 0] }",
            "{ total = 2, range = [1, 0] }",
            "{ total = 2, range = [0, 2] }",
        ] {
            let s = parse(&format!("shards = {bad}")).unwrap();
            assert!(s.problem().is_some(), "{bad}");
        }
        assert!(two.problem().is_none());
    }

    #[test]
    fn dms_are_on_shard_zero_and_guilds_by_id() {
        assert_eq!(shard_of(None, 4), 0);
        // A guild id's shard is its timestamp bits modulo the total.
        let g = (5u64 << 22) | 12345;
        assert_eq!(shard_of(Some(g), 2), 1);
        assert_eq!(shard_of(Some(g), 5), 0);
        assert_eq!(shard_of(Some(g), 1), 0);
    }
}
