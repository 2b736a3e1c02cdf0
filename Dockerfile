FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    VALUEPORTRAIT_HOME=/app \
    DJANGO_STATIC_ROOT=/app/staticfiles

# GNU gettext's msgfmt compiles the participant pages' translations (step 3).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

# 1. The dependencies alone, from pyproject.toml alone: this layer is rebuilt only when the
#    dependency list changes, not on every code change.
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 2. The project itself (a wheel with templates, static files and manage.py in the package),
#    without its dependencies, then the sources are removed: the image runs the installed
#    package only. .dockerignore keeps secrets, virtualenvs, databases and .git out.
COPY . .
RUN pip install --no-deps . && rm -rf /src

# 3. Static files collected and the translations compiled at build time (settings need
#    values, but no secrets of consequence).
WORKDIR /app
RUN DJANGO_SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    valueportrait collectstatic --noinput -v0 \
    && DJANGO_SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    valueportrait compilemessages -v0 \
    && rm -f /tmp/build.sqlite3 \
    && useradd --create-home app && chown -R app /app
USER app
EXPOSE 8000
# No HEALTHCHECK here: the same image runs web, worker and one-shot commands, each with its
# own check in docker-compose.yml.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
