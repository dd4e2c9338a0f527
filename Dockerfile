FROM python:3.11-slim
# Optional dependency groups of pyproject.toml, e.g. "[flower]" (the flower service's image).
ARG PIP_EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY lmsbridge ./lmsbridge
COPY integrations ./integrations
COPY catalog ./catalog
COPY shared ./shared
RUN pip install --no-cache-dir ".${PIP_EXTRAS}"
COPY . .
RUN DJANGO_ENV=development python manage.py collectstatic --noinput
RUN useradd --create-home app && chown -R app /app
USER app
EXPOSE 8000
