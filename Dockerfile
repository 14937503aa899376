FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY config config
COPY apps apps
COPY templates templates
COPY static static
COPY manage.py ./
RUN pip install --no-cache-dir -c requirements.lock -e . && useradd -r patchwork
USER patchwork
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
