//! API tests: each spawns the real application on a random port against its own database,
//! built by the migrations. SQLite by default; PostgreSQL when `DEALERNET_TEST_DATABASE_URL`
//! names a server (e.g. `postgres://postgres@127.0.0.1:5432`), one database per test.

mod helpers;

mod audit;
mod auth;
mod bad_input;
mod crm;
mod dealers;
mod http_rails;
mod isolation;
mod notifications;
mod notify_support;
mod orgs;
mod permission_matrix;
mod reminders;
mod roles_and_keys;
mod users;
mod warehouse;
