# The webhook service. Build: docker build -t aspm16-webhook .
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY formatter ./formatter
COPY webhook ./webhook
COPY migrations ./migrations
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0 DATA_DIR=/data
EXPOSE 8080
USER node
# Migrations run at start-up; SIGTERM commits what was accepted, then exits.
CMD ["node", "--import", "tsx", "webhook/main.ts"]
