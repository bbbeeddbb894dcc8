#!/usr/bin/env bash
# Start the local PostgreSQL and Redis the tests need, if they are not answering.
# Uses the Debian packages' own tools; on other systems start them your own way.
set -euo pipefail

pg_host=${OMC_TEST_PG_HOST:-127.0.0.1}
redis_host=${OMC_TEST_REDIS_HOST:-127.0.0.1}

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 30); do
    if eval "$check" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "$what did not come up within 30 s" >&2
  return 1
}

if ! pg_isready -q -h "$pg_host" -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  wait_for PostgreSQL "pg_isready -q -h $pg_host -p 5432"
fi

if ! redis-cli -h "$redis_host" -p 6379 ping 2>/dev/null | grep -q PONG; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis "redis-cli -h $redis_host -p 6379 ping | grep -q PONG"
fi
