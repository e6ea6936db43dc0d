//! `authkit-sync`: a declarative plan/apply engine for the WorkOS AuthKit configuration that
//! Convex apps declare in `convex.json`.
//!
//! The modules follow the pipeline: `config` and `template` read the declaration, `desired`
//! compiles it into a [`state::State`], `provider` reads the live state, `plan` diffs the two,
//! `checks` looks for set-ups that would apply cleanly and still fail at sign-in, `render`
//! prints the plan and the findings, and `apply` executes the plan. `commands` wires the
//! stages together; `emulator` is a stand-in WorkOS server for tests and for trying the tool
//! without an account.

pub mod apply;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod credentials;
pub mod desired;
pub mod dotenv;
pub mod emulator;
pub mod framework;
pub mod http;
pub mod plan;
pub mod project;
pub mod provider;
pub mod render;
pub mod state;
pub mod target;
pub mod template;
