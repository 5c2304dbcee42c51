//! GraphiQL. The files are graphiql 3.9.0 and React 18.3.1 from the npm registry,
//! unmodified (licenses beside them in `assets/graphiql/`).

use axum::extract::{Path, State};
use axum::response::{Html, Response};

use super::AppState;
use super::assets::{self, Asset, RoleToken};

const PAGE: &str = include_str!("../../assets/graphiql/index.html");

const ASSETS: [Asset; 4] = [
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
];

/// The page; with `tokens` (the demo's), a role picker that sends the chosen role's
/// token and a purpose with every request.
pub fn page(tokens: &[RoleToken]) -> String {
    assets::with_tokens(PAGE, tokens)
}

pub async fn serve(State(state): State<AppState>) -> Html<String> {
    Html(state.graphiql.clone())
}

pub async fn asset(Path(name): Path<String>) -> Response {
    assets::serve(&ASSETS, &name, "GraphiQL asset")
}
