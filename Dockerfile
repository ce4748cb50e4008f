# verse_backend for production. Multi-arch as is: python:3.11-slim is published for amd64 and
# arm64 (Raspberry Pi 5), and every dependency is pure Python or ships aarch64 wheels, so no
# compiler is needed. Build on the Pi itself, or elsewhere with
#   docker buildx build --platform linux/arm64,linux/amd64 -t verse-backend .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged uid owns the data volume; nothing runs as root.
RUN groupadd --system --gid 10001 verse \
    && useradd --system --uid 10001 --gid verse --home-dir /home/verse --create-home verse \
    && mkdir /data \
    && chown verse:verse /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY verse_backend ./verse_backend
COPY versectl ./versectl
COPY nginx_templates ./nginx_templates
RUN pip install . && rm -rf /app/build

USER verse
# Listen on all interfaces *inside* the container; compose publishes the port on the host's
# loopback only. The DB (and the generated cookie-signing key) live on the volume.
ENV VERSE_HOST=0.0.0.0 \
    VERSE_PORT=7776 \
    VERSE_DB=/data/verse.sqlite3
EXPOSE 7776
VOLUME ["/data"]
CMD ["verse-backend", "--timeout-graceful-shutdown", "5"]
