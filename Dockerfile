# syntax=docker/dockerfile:1
# repoint: caching, verifying pull-through mirror for apt and yum/dnf repositories.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; lzma-native ships N-API prebuilds, so no compiler is needed.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-slim
# Keyrings for the example remotes (Debian ships both packages).
RUN apt-get update \
 && apt-get install -y --no-install-recommends debian-archive-keyring ubuntu-keyring ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json mirror.example.yaml ./
COPY config ./config
COPY bin ./bin
COPY src ./src
RUN mkdir -p /data && chown node:node /data
USER node
ENV NODE_ENV=production REPOINT_CONFIG=/app/mirror.example.yaml REPOINT_DATA_DIR=/data
# Node 24 runs the TypeScript sources directly (type stripping); there is no build step.
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/-/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/repoint.js", "serve"]
