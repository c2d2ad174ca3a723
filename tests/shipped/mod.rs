//! The engine on the shipped `responses/`, loaded once per test binary
//! (for the suites that classify many messages: hostile, invariants).

use boundary_bot::config::Config;
use boundary_bot::Engine;
use std::sync::OnceLock;

pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let config = Config {
            responses_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/responses").into(),
            ..Config::default()
        };
        Engine::load(&config).expect("shipped content loads")
    })
}
