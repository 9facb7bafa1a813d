# pgrepl_exporter container image, built from Debian 12 packages only.
#
#   podman build -t pgrepl-exporter:0.1.0 .      (or docker build)
#   podman run --rm -p 9752:9752 -e DB_HOST=... pgrepl-exporter:0.1.0
#
# Stage "build" compiles in Release mode and runs the unit tests; the
# runtime stage holds the binary, its two OpenSSL 3 compatibility libraries
# (exporter/ssl_compat, see CMakeLists.txt) where the binary's RUNPATH
# ($ORIGIN/../lib/pgrepl_exporter) finds them, and the shared libraries it
# links, nothing else. tests/container/test_image.sh builds it offline and
# scrapes a real cluster with it.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ make cmake pkg-config python3-minimal ccache \
      libpq-dev prometheus-cpp-dev libcivetweb-dev libspdlog-dev \
      nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev \
      libssl-dev libyaml-cpp-dev libcrypt-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Sources and unit tests only (.dockerignore keeps the rest out).
COPY CMakeLists.txt ./
COPY exporter/ exporter/
COPY tests/ tests/
ARG BUILD_JOBS=2
# The source has no .git here: the revision the binary reports comes from
# this build arg (tests/container/test_image.py passes the commit).
ARG REVISION=unknown
# Compiles go through ccache: a cache directory mounted for the build at
# /ccache (podman build -v DIR:/ccache, as tests/container/test_image.py
# does) makes a rebuild of unchanged sources quick; without one it is empty.
ENV CCACHE_DIR=/ccache
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DPGREPL_REVISION="${REVISION}" \
      -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
 && cmake --build /build -j "${BUILD_JOBS}" --target pgrepl_exporter unit_tests \
 && ctest --test-dir /build -L unit -LE alerts --output-on-failure -j "${BUILD_JOBS}" \
 && cmake --install /build --prefix /out --strip \
 && ccache --show-stats

FROM ${BASE_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpq5 libprometheus-cpp-core1.0 libcivetweb1 libspdlog1.10 libfmt9 \
      libyaml-cpp0.7 libcrypt1 libssl3 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY --from=build /out/bin/pgrepl_exporter /usr/local/bin/pgrepl_exporter
COPY --from=build /out/lib/pgrepl_exporter/ /usr/local/lib/pgrepl_exporter/
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="pgrepl_exporter" \
      org.opencontainers.image.description="Prometheus exporter for PostgreSQL streaming replication" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/pgrepl/pgrepl_exporter" \
      org.opencontainers.image.documentation="https://github.com/pgrepl/pgrepl_exporter/blob/main/README.md" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
# Any non-root user: nothing in the image needs a name or a home.
USER 65532:65532
EXPOSE 9752
ENTRYPOINT ["/usr/local/bin/pgrepl_exporter"]
