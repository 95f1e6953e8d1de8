# meetingmesh gateway (and its simulators): a slim Python image running as a non-root
# user, the package installed from the wheel built in the first stage.
#   docker build -t meetingmesh .
#   docker run -p 8000:8000 -v ./meetingmesh.toml:/etc/meetingmesh/meetingmesh.toml:ro meetingmesh
# The configuration reads every secret from the environment (${VAR}); docker-compose.yml
# runs three replicas sharing one Redis, with the simulators (README, "Deploying").

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY meetingmesh ./meetingmesh
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/*.whl \
    && rm -rf /tmp/dist \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin meetingmesh
COPY deploy/meetingmesh.toml /etc/meetingmesh/meetingmesh.toml
USER meetingmesh
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["meetingmesh"]
CMD ["serve", "--config", "/etc/meetingmesh/meetingmesh.toml", "--host", "0.0.0.0", "--port", "8000"]
