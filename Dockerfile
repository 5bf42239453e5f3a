# The webhook service. Build: docker build -t aspm16-webhook .
# Stage 1 compiles the service and the formatter bundle; stage 2 holds only what runs: production
# dependencies, build/, dist/formatter.js, the migrations and the console's files, run by plain node as
# the user `node`.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The sources are not here yet, so `prepare` (npm run build) runs below instead.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY scripts ./scripts
COPY formatter ./formatter
COPY webhook ./webhook
RUN npm run build

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0 DATA_DIR=/data
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY migrations ./migrations
# The console's browser files, served as they are.
COPY webhook/console/public ./webhook/console/public
COPY --from=build /app/build ./build
COPY --from=build /app/dist ./dist
# The data volume's mount point belongs to the service's user: a new named volume takes this owner.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
USER node
VOLUME /data
EXPOSE 8080
# slim images have no curl: node itself asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1: SIGTERM from `docker stop` reaches the service, which stops within 8 s.
CMD ["node", "--enable-source-maps", "build/main.js"]
