# syntax=docker/dockerfile:1
# Build a static binary, then ship it alone in a distroless non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/breakwater ./cmd/breakwater \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/breakwater /usr/local/bin/breakwater
COPY --from=build --chown=65532:65532 /out/data /data
ENV BREAKWATER_LISTEN=0.0.0.0:8080 \
    BREAKWATER_DATA_DIR=/data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/breakwater", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/breakwater"]
CMD ["serve"]
