# Multi-stage build: the server binary and the release SPA in a slim image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN rustup target add wasm32-unknown-unknown
COPY . .
RUN cargo xtask build-web && cargo build --release -p dealernet-server

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/target/release/dealernet /usr/local/bin/dealernet
COPY --from=build /src/frontend/dist /app/web
ENV DEALERNET_DATA_DIR=/app/data DEALERNET_WEB_DIR=/app/web DEALERNET_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["dealernet"]
CMD ["serve"]
