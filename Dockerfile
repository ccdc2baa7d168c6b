# The Trellis image: one static `trellis` binary at /usr/local/bin/trellis.
# The controller Deployment runs it (`trellis controller`); the init container of every step Pod
# copies it into the Pod (`trellis exec --install`), where it wraps the step's command in any
# user image — which is why it is linked statically (musl): it must run in Alpine and Debian
# images alike.
#
#   docker build -t trellis:0.1.0 .
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools cmake \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl -p server --bin trellis \
 && cp target/x86_64-unknown-linux-musl/release/trellis /trellis

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /trellis /usr/local/bin/trellis
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/trellis"]
