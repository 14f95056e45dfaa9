# syntax=docker/dockerfile:1
# Build: docker build -t dashtune .
# Run:   docker run --env-file .env -v dashtune-data:/app/data dashtune

FROM node:24-bookworm-slim AS build
# better-sqlite3 13 ships Node-API binaries in its package: no compiler is needed here.
WORKDIR /app
COPY package.json package-lock.json ./
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
ENV NODE_ENV=production \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
