# The Trellis image: one static `trellis` binary at /usr/local/bin/trellis, and the web UI's
# assets (what `cargo xtask build` puts in target/site) at /usr/share/trellis/site.
# The controller Deployment runs it (`trellis controller`), the server Deployment too
# (`trellis serve --site-dir /usr/share/trellis/site`); the init container of every step Pod
# copies the binary into the Pod (`trellis exec --install`), where it wraps the step's command in
# any user image — which is why it is linked statically (musl): it must run in Alpine and Debian
# images alike.
#
#   docker build -t trellis:0.1.0 .

# npm's binaryen (`wasm-opt`, for the release wasm; never Debian's binaryen, whose wasm-opt
# silently breaks the wasm), installed from package.json as `scripts/setup` does.
FROM node:20-bookworm-slim AS node-tools
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --loglevel=error

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools cmake \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl wasm32-unknown-unknown
# `node_modules/.bin/wasm-opt` is a Node script.
COPY --from=node-tools /usr/local/bin/node /usr/local/bin/node
WORKDIR /src
COPY . .
COPY --from=node-tools /src/node_modules ./node_modules
# `cargo xtask build --release`: the stylesheet, the wasm (wasm32-unknown-unknown, then
# wasm-bindgen in-process and wasm-opt), target/site, and the server, which CARGO_BUILD_TARGET
# makes the static musl binary (the wasm build names its own target). `cargo fetch --locked`
# first: the build then uses Cargo.lock as it is.
RUN cargo fetch --locked \
 && CARGO_BUILD_TARGET=x86_64-unknown-linux-musl cargo xtask build --release \
 && cp target/x86_64-unknown-linux-musl/release/trellis /trellis \
 && test -f target/site/pkg/trellis_bg.wasm \
 && cp -r target/site /site

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /trellis /usr/local/bin/trellis
COPY --from=build /site /usr/share/trellis/site
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/trellis"]
