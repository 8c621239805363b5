FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY migrations ./migrations
COPY views ./views
RUN mkdir /data && chown node:node /data
USER node
EXPOSE 8443
CMD ["node", "src/main.ts"]
