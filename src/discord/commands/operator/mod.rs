//! Commands for the bot's operator, behind `check = "checks::operator"`:
//! `/reload`.

pub mod reload;
