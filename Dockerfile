# syntax=docker/dockerfile:1
# runway's container image: a static musl build of the `runway` binary on distroless, running as the
# nonroot user (65532). Build with `docker build -t runway .`; tests/deploy.rs checks this file's shape.

FROM rust:1.95-slim-bookworm AS builder
# NB: the musl target of the platform being built, natively: .github/workflows/release.yml passes
# aarch64-unknown-linux-musl on its arm64 runner.
ARG TARGET=x86_64-unknown-linux-musl
# NB: ring (rustls' crypto) compiles C, so the musl target needs musl-gcc from musl-tools.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add "$TARGET"
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY crates ./crates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked --target "$TARGET" --bin runway \
 && cp "target/$TARGET/release/runway" /runway

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=builder /runway /runway
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/runway"]
CMD ["run"]
