# Focal Point: a static-ish binary (cgo for SQLite) on Debian slim.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -o /out/focalpoint ./server

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/focalpoint --create-home focal
COPY --from=build /out/focalpoint /usr/local/bin/focalpoint
USER focal
WORKDIR /var/lib/focalpoint
ENV FOCAL_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/focalpoint"]
CMD ["serve"]
