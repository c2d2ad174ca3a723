//! Commands any member may use: `/ask`, `/topic`, `/topics`, `/resources`,
//! `/help`, the "Get boundary guidance" context menu, `/optout`, `/optin`.

pub mod ask;
pub mod context_menu;
pub mod help;
pub mod optout;
pub mod resources;
pub mod topic;
pub mod topics;
