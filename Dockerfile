# memkv server image. Not built by CI: check changes with `docker build .` and `docker compose up`.

# ---- build: compile the client package and the server ----
FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.base.json tsconfig.build.json ./
COPY packages/client/package.json packages/client/tsconfig.json packages/client/
RUN npm ci --no-audit --no-fund
COPY packages/client/src packages/client/src
COPY scripts/build-ui.mjs scripts/
COPY src src
RUN npm run build

# ---- runtime: production dependencies and compiled JavaScript only ----
FROM node:20-alpine
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    HEALTH_PORT=8081 \
    DB_PATH=/data
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/client/package.json packages/client/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
COPY --from=build /app/packages/client/dist packages/client/dist
# `memkv` on the PATH (docker compose exec memkv memkv get KEY), and a data directory the
# unprivileged user owns.
RUN chmod +x dist/cli/bin.js && ln -s /app/dist/cli/bin.js /usr/local/bin/memkv \
    && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 8081
# Readiness, not liveness: healthy once the log is loaded and the API serves (while it loads the
# API answers 503 loading and /ready 503; /ready is 503 too while the disk refuses writes).
# Failures in the first 60 s do not count, so that a large log can load. With HEALTH_TLS=true the
# health port speaks HTTPS (its certificate names the service, not 127.0.0.1: not checked here).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD scheme=http; [ "$HEALTH_TLS" = true ] && scheme=https; \
        wget -q --no-check-certificate -O /dev/null "$scheme://127.0.0.1:${HEALTH_PORT}/ready" || exit 1
ENTRYPOINT ["memkv"]
CMD ["serve"]
