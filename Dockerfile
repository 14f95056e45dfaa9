# syntax=docker/dockerfile:1
# Build: docker build -t dashtune .
# Run:   docker run --env-file .env -v dashtune-data:/app/data -p 127.0.0.1:8080:8080 dashtune
# Or with PostgreSQL: docker compose up -d (see docker-compose.yml and the README).

FROM node:24-bookworm-slim AS build
# better-sqlite3 13 ships Node-API binaries in its package: no compiler is needed here.
WORKDIR /app
COPY package.json package-lock.json ./
# `npm ci` runs the package's `prepare` (a build when sources changed); the sources come later,
# so it finds none and skips. The build below is the same script `npm start` runs.
COPY scripts/build.mjs ./scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Debian's ffmpeg is installed in the runtime image, so the npm-shipped ffmpeg binaries are dropped.
# (Not with --omit=optional: the chart renderer's native binary is an optional dependency too.)
RUN npm run build \
 && npm prune --omit=dev \
 && rm -rf node_modules/@ffmpeg-installer/linux-* node_modules/@ffprobe-installer/linux-*

FROM node:24-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The health and metrics listener is on in the image, on every interface of the container (publish
# the port only where your monitoring can reach it). Logs are JSON: there is no terminal.
ENV NODE_ENV=production \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 8080
# The slim image has no curl: Node's own fetch asks /healthz (200 when Discord is connected and the
# database answers). The start period covers connecting to Discord and registering commands.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HTTP_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
