# syntax=docker/dockerfile:1
# policy-site's receiver in a container: `receive` storing into SQLite on the
# volume /var/lib/policy-site (or into PostgreSQL with --db postgres://…).
#
#   docker build -t policy-site .
#   docker run --network host -v policy-site-data:/var/lib/policy-site \
#     policy-site --allow-origin https://policies.example.org
#
# receive listens on 127.0.0.1 only (it has no flag for another address yet),
# so it is reached from the container's own network namespace: run it with
# --network host, or beside its reverse proxy in one namespace (a Kubernetes
# pod, or compose's network_mode: "service:proxy"). A site's folder mounted at
# /site with --root /site gives it the site's rights and languages.

FROM rust:1-bookworm AS builder
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY benches benches
COPY src src
COPY static static
COPY templates templates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked --bin policy-site \
    && cp target/release/policy-site /usr/local/bin/policy-site

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/policy-site --shell /usr/sbin/nologin policy-site \
    && mkdir -p /var/lib/policy-site \
    && chown policy-site:policy-site /var/lib/policy-site
COPY --from=builder /usr/local/bin/policy-site /usr/local/bin/policy-site
COPY scripts/healthcheck.sh /usr/local/bin/policy-site-healthcheck
COPY LICENSE-MIT LICENSE-APACHE /usr/share/doc/policy-site/

USER policy-site:policy-site
# receive's default --db is receipts.sqlite in the working folder: the volume.
WORKDIR /var/lib/policy-site
VOLUME ["/var/lib/policy-site"]
# The health check's port: set PORT too when passing --port.
ENV PORT=8787
EXPOSE 8787
# GET /health answers 200 once the receiver could keep a record now, 503 when not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["policy-site-healthcheck"]
# Listening on every address of the container, so that a published port reaches it.
ENTRYPOINT ["policy-site", "receive", "--listen", "0.0.0.0"]
