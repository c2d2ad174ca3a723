//! `[metrics] listen`: `GET /metrics` (the [`Metrics`] counters as
//! OpenMetrics text, never content) and `GET /health` (200 when every
//! gateway shard this process runs is connected, else 503), on a small
//! axum server beside the bot.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serenity::all::{ConnectionStage, ShardManager};
use tokio::net::TcpListener;
use tracing::warn;

use crate::metrics::Metrics;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone)]
struct Shared {
    metrics: Arc<Metrics>,
    shards: Arc<ShardManager>,
}

/// Serves `/metrics` and `/health` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, shards: Arc<ShardManager>) {
    let app = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/health", get(health))
        .with_state(Shared { metrics, shards });
    if let Err(e) = axum::serve(listener, app).await {
        warn!(error = %e, "the metrics server stopped");
    }
}

async fn metrics_text(State(s): State<Shared>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, OPENMETRICS)], s.metrics.render())
}

/// How many of this process's shards are connected, of how many.
async fn health(State(s): State<Shared>) -> impl IntoResponse {
    let runners = s.shards.runners.lock().await;
    let total = runners.len();
    let connected = runners
        .values()
        .filter(|r| r.stage == ConnectionStage::Connected)
        .count();
    drop(runners);
    let healthy = total > 0 && connected == total;
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = if healthy { "ok" } else { "unhealthy" };
    (
        status,
        format!("{word}: {connected} of {total} shards connected\n"),
    )
}
