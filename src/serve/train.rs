//! Training over HTTP, every path under `/api/train` (LAB-API.md, "Training"). The router
//! hands each such request over whole, so that a stream of server-sent events can keep it;
//! this module answers it itself: `req.respond(Reply)` for an ordinary reply,
//! `req.events()` for a stream of server-sent events (`Events::send(event, data)`).
//!
//! For now it is the seam only: every training path answers 404 until the live training
//! run (`train::live`) is wired in here. What training keeps between requests (its runs,
//! by id and by page) is [`State`], which the lab holds as `Lab::training`; `super::message`
//! and `super::clap_message` give an error as the CLI words it.

use super::Lab;
use super::http::{Reply, Request};

/// What training keeps between requests; the lab makes it with `State::default()`.
#[derive(Default)]
pub(crate) struct State {}

/// Answers `req`, whose `path` is `/api/train` or under it (`/api/train/7/events`); its
/// `query` (without the `?`) and `body` (at most 64 KiB) are read already.
pub(crate) fn route(lab: &Lab, req: Request) {
    let State {} = &lab.training;
    req.respond(Reply::error(404, "training is not built yet"));
}
