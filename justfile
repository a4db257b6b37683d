# DealerNet tasks. `just --list` shows them. Everything here is also reachable with plain cargo.

# Build the SPA and start everything on an embedded SQLite database (with demo data).
start:
    cargo xtask start --demo

# Unit and API tests on SQLite (the README test command).
test:
    cargo test

# The API suite against the local PostgreSQL.
test-pg:
    DEALERNET_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432 cargo test -p dealernet-api --test api

# Everything CI runs.
ci:
    bash .ci/run

# Lints.
lint:
    cargo clippy --all-targets -- -D warnings
    cargo clippy -p xtask -- -D warnings
    cargo clippy -p dealernet-frontend --target wasm32-unknown-unknown -- -D warnings
    cargo fmt --all -- --check

# Regenerate the checked-in OpenAPI spec.
openapi:
    cargo run -q -p dealernet-server -- openapi > api-spec/openapi.json

# Build the release SPA into frontend/dist.
web:
    cargo xtask build-web

# Browser end-to-end tests.
e2e:
    cargo xtask e2e

# Run the server against the local PostgreSQL.
serve-pg:
    DEALERNET_DATABASE_URL=postgres://postgres@127.0.0.1:5432/dealernet cargo run -p dealernet-server -- serve
