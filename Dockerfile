# boundary-bot in a container: built in one stage, run in a slim one as a
# non-root user. The database lives on the volume /var/lib/boundary-bot;
# the content in /opt/boundary-bot/responses can be replaced by a mount
# (`-v ./responses:/opt/boundary-bot/responses:ro`), and the config by a
# mount on /etc/boundary-bot/config.toml. The token comes from
# DISCORD_TOKEN or the file the config's token_file names (a secret).
#
#   docker build -t boundary-bot .
#   docker run --rm boundary-bot check
#   docker run -d -e DISCORD_TOKEN -v boundary-bot-data:/var/lib/boundary-bot boundary-bot
#
# Not built or run on the machines this was written on (no container
# engine there); see "Running at scale" in the README.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-pip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
 && PIP_BREAK_SYSTEM_PACKAGES=1 scripts/fetch-model.sh models/all-MiniLM-L6-v2

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/boundary-bot --shell /usr/sbin/nologin boundary-bot \
 && mkdir -p /var/lib/boundary-bot \
 && chown boundary-bot:boundary-bot /var/lib/boundary-bot
COPY --from=build /src/target/release/boundary-bot /usr/local/bin/boundary-bot
COPY --from=build /src/responses /opt/boundary-bot/responses
COPY --from=build /src/models /opt/boundary-bot/models
COPY deploy/config.container.toml /etc/boundary-bot/config.toml
USER boundary-bot
VOLUME /var/lib/boundary-bot
ENTRYPOINT ["boundary-bot", "--config", "/etc/boundary-bot/config.toml"]
CMD ["run"]
