//! A throwaway PostgreSQL database for the end-to-end tests that need one.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh database on the test server, dropped with the guard.
pub struct TestDatabase {
    admin_url: String,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // The blocking driver must not run on an async worker.
        let _ = std::thread::spawn(move || {
            if let Ok(mut admin) = postgres::Client::connect(&url, postgres::NoTls) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        })
        .join();
    }
}

/// A new database on the server `BOUNDARY_BOT_POSTGRES_URL` names, and
/// its URL; `None` (after saying on the terminal that `what` was skipped)
/// without one, and a failure then under `BOUNDARY_BOT_REQUIRE_POSTGRES=1`.
pub fn test_database(what: &str) -> Option<(String, TestDatabase)> {
    let Ok(admin_url) = std::env::var("BOUNDARY_BOT_POSTGRES_URL") else {
        assert_ne!(
            std::env::var("BOUNDARY_BOT_REQUIRE_POSTGRES").as_deref(),
            Ok("1"),
            "BOUNDARY_BOT_REQUIRE_POSTGRES=1 but BOUNDARY_BOT_POSTGRES_URL is not set"
        );
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPED: {what} (set BOUNDARY_BOT_POSTGRES_URL)"
        );
        return None;
    };
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let name = format!("bb_e2e_{}_{n}", std::process::id());
    let (url, create) = (admin_url.clone(), name.clone());
    std::thread::spawn(move || {
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("admin connection");
        admin
            .batch_execute(&format!("CREATE DATABASE {create}"))
            .expect("create");
    })
    .join()
    .unwrap();
    let server = admin_url.split('?').next().unwrap();
    let url = format!(
        "{}/{name}",
        server.rsplit_once('/').map_or(server, |(s, _)| s)
    );
    Some((url, TestDatabase { admin_url, name }))
}
