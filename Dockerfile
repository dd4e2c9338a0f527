FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY lmsbridge ./lmsbridge
COPY integrations ./integrations
RUN pip install --no-cache-dir .
COPY . .
RUN DJANGO_ENV=development python manage.py collectstatic --noinput
RUN useradd --create-home app && chown -R app /app
USER app
EXPOSE 8000
