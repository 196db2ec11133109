# Carta: one static binary (fonts are embedded, no system fonts needed).
#
#   docker build -t carta .
#   docker run --rm carta version
#   docker compose up          # nats-server, an S3 server and two workers (compose.yaml)

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Dependencies first, so editing sources does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/carta ./cmd/carta \
 && /out/carta version
# The working folder of the final image, owned by the nonroot user
# (uid 65532), for "carta demo" and "carta submit -o".
RUN mkdir -p /out/work

# distroless/static: CA certificates and tzdata, no shell, no libc.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/carta /usr/local/bin/carta
COPY --from=build --chown=65532:65532 /out/work /work
WORKDIR /work
USER 65532:65532
# The worker's /metrics, /healthz and /readyz, reachable from outside the
# container (the binary's own default is 127.0.0.1:9090).
ENV CARTA_HTTP_ADDR=:9090
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/carta"]
CMD ["worker"]
