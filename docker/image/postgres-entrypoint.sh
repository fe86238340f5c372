#!/bin/sh
# The entrypoint of the ghostbench/postgres image, after the official
# image's for what ghostbench relies on: on first start, initdb into
# $PGDATA with $POSTGRES_USER as superuser and $POSTGRES_PASSWORD,
# connections from any address authenticated by $POSTGRES_HOST_AUTH_METHOD
# (scram-sha-256 unless set, e.g. to trust), listen on every address, and
# create $POSTGRES_DB; then run the command (postgres and its -c settings)
# as the container's main process.
#
# initdb takes seconds of CPU: when the image carries a cluster made at
# build time for the same user, database and trusted connections (see
# build.sh), a copy of it replaces the initdb. "--init DIR" makes such a
# cluster in DIR.
set -eu

template=/usr/share/ghostbench/pgdata-template

init() {
	user=${POSTGRES_USER:-postgres}
	db=${POSTGRES_DB:-$user}
	auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
	stamp="user=$user db=$db auth=$auth"
	if [ "$auth" = trust ] && [ -f "$template/ghostbench-template" ] && [ "$(cat "$template/ghostbench-template")" = "$stamp" ]; then
		cp -R "$template" "$PGDATA"
		rm -f "$PGDATA/ghostbench-template"
		chmod 700 "$PGDATA"
		echo "PostgreSQL init process complete (from the image's cluster for $stamp); ready for start up."
		return
	fi
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
		echo "Error: POSTGRES_PASSWORD is not set; the server would accept no connection from outside" >&2
		exit 1
	fi
	pwfile=$(mktemp 2>/dev/null || echo /tmp/pwfile.$$)
	printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
	initdb --no-sync --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host="$auth" -D "$PGDATA" >/dev/null
	rm -f "$pwfile"
	echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
	echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
	if [ "$db" != postgres ]; then
		# Single-user mode runs as the bootstrap superuser, $user, which
		# thus owns the database as in the official image.
		printf 'CREATE DATABASE "%s";\n' "$db" | postgres --single -j -D "$PGDATA" postgres >/dev/null
	fi
	echo "PostgreSQL init process complete; ready for start up."
}

if [ "${1:-}" = --init ]; then
	PGDATA=$2
	init
	echo "$stamp" >"$PGDATA/ghostbench-template"
	exit 0
fi

case "${1:-postgres}" in -*) set -- postgres "$@" ;; esac

if [ "${1:-postgres}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	init
fi

exec "$@"
