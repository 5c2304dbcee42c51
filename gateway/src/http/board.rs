//! The dispatch board (调度大屏) at `/board`: a page signed in with a token that follows
//! its jurisdiction's dispatch signals live and shows the open summonses, the events at
//! its level, today's figures with their 30-day trend and a map of its grids. It reads
//! only the public API (`/graphql`, the WebSocket, the GeoJSON exports), so it sees what
//! its token may see and nothing more. Plain HTML, CSS and JavaScript, no build step.

use axum::extract::{Path, State};
use axum::response::{Html, Response};

use super::AppState;
use super::assets::{self, Asset, RoleToken};

const PAGE: &str = include_str!("../../assets/board/index.html");

const ASSETS: [Asset; 2] = [
    Asset {
        name: "board.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/board/board.js"),
    },
    Asset {
        name: "board.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/board/board.css"),
    },
];

/// The page; with `tokens` (the demo's), a sign-in that offers each role's token.
pub fn page(tokens: &[RoleToken]) -> String {
    assets::with_tokens(PAGE, tokens)
}

pub async fn serve(State(state): State<AppState>) -> Html<String> {
    Html(state.board.clone())
}

pub async fn asset(Path(name): Path<String>) -> Response {
    assets::serve(&ASSETS, &name, "board asset")
}
