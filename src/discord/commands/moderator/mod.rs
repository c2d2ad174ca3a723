//! Commands for moderators, each behind `check = "checks::moderator"`:
//! `/pin`, `/unpin`, `/pins`, `/stats`, `/settings`.

pub mod pin;
pub mod pins;
pub mod settings;
pub mod stats;
pub mod unpin;
