# herald's image: a static binary on distroless. Build with `docker build -t herald .`;
# docker-compose.yml builds it for the distributed topology.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/herald ./cmd/herald

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /herald
USER nonroot
EXPOSE 8228
VOLUME /data
ENV HERALD_DATA_DIR=/data
ENTRYPOINT ["/herald"]
CMD ["serve"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/herald", "health"]
