#!/usr/bin/env bash
# Shared settings for the ops scripts. Source it; do not run it.
# Every value can be overridden from the environment.

TASKER_ROOT="${TASKER_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
TASKER_STATE_DIR="${TASKER_STATE_DIR:-/tmp/tasker-ops}"

# Private PostgreSQL: its own data directory, port and socket directory.
TASKER_PG_PORT="${TASKER_PG_PORT:-55432}"
TASKER_PG_DIR="${TASKER_PG_DIR:-$TASKER_STATE_DIR/postgres}"
TASKER_PG_SOCKET_DIR="${TASKER_PG_SOCKET_DIR:-$TASKER_STATE_DIR/pg-socket}"
TASKER_PG_DB="${TASKER_PG_DB:-tasker}"
TASKER_PG_USER="${TASKER_PG_USER:-tasker}"
TASKER_PG_PASSWORD="${TASKER_PG_PASSWORD:-tasker}"

# Private RabbitMQ node: its own node name, ports and data directory.
TASKER_AMQP_PORT="${TASKER_AMQP_PORT:-5673}"
TASKER_RABBIT_NODE="${TASKER_RABBIT_NODE:-tasker@localhost}"
TASKER_RABBIT_DIR="${TASKER_RABBIT_DIR:-$TASKER_STATE_DIR/rabbitmq}"
TASKER_RABBIT_USER="${TASKER_RABBIT_USER:-tasker}"
TASKER_RABBIT_PASSWORD="${TASKER_RABBIT_PASSWORD:-tasker}"

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
RABBIT_BIN="${RABBIT_BIN:-/usr/lib/rabbitmq/bin}"

# Environment the services and tests read (see docs/configuration.md).
export POSTGRES_HOSTNAME="${POSTGRES_HOSTNAME:-127.0.0.1}"
export POSTGRES_PORT="${POSTGRES_PORT:-$TASKER_PG_PORT}"
export POSTGRES_USER="${POSTGRES_USER:-$TASKER_PG_USER}"
export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-$TASKER_PG_PASSWORD}"
export POSTGRES_DB="${POSTGRES_DB:-$TASKER_PG_DB}"
export DATABASE_URL="${DATABASE_URL:-postgres://$POSTGRES_USER:$POSTGRES_PASSWORD@$POSTGRES_HOSTNAME:$POSTGRES_PORT/$POSTGRES_DB}"
export AMQP_URL="${AMQP_URL:-amqp://$TASKER_RABBIT_USER:$TASKER_RABBIT_PASSWORD@127.0.0.1:$TASKER_AMQP_PORT/%2f}"

log() { printf '[ops] %s\n' "$*" >&2; }

rabbit_env() {
  export RABBITMQ_NODENAME="$TASKER_RABBIT_NODE"
  export RABBITMQ_NODE_PORT="$TASKER_AMQP_PORT"
  export RABBITMQ_DIST_PORT="$((TASKER_AMQP_PORT + 20000))"
  export RABBITMQ_MNESIA_BASE="$TASKER_RABBIT_DIR/mnesia"
  export RABBITMQ_LOG_BASE="$TASKER_RABBIT_DIR/log"
  export RABBITMQ_PID_FILE="$TASKER_RABBIT_DIR/rabbit.pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$TASKER_RABBIT_DIR/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$TASKER_RABBIT_DIR/rabbitmq"
  export HOME="${HOME:-/root}"
  export ERL_CRASH_DUMP="$TASKER_RABBIT_DIR/erl_crash.dump"
}

rabbitctl() { (rabbit_env; "$RABBIT_BIN/rabbitmqctl" -n "$TASKER_RABBIT_NODE" "$@"); }
