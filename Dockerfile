# One image for every faultline process in docker-compose.yml: the shop
# (supervisor + services), the console (next start) and the workers. The same
# code as embedded mode; only the environment differs.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1

# Dependencies first, so source edits do not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

COPY . .
# The console is served by `next start`, which needs a production build.
RUN npm run build

ENV NODE_ENV=production
# `faultline` on PATH for the `command:` lines (the package.json bin, which loads the sources through tsx).
RUN chmod +x cli/bin.mjs && ln -s /app/cli/bin.mjs /usr/local/bin/faultline

EXPOSE 3000 8080 8479
CMD ["faultline", "--help"]
