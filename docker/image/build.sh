#!/usr/bin/env bash
# build.sh builds the docker provider's local images, ghostbench/postgres
# and ghostbench/redis, from the PostgreSQL 15 and Redis 7 that Debian's
# packages installed on this machine (make deps), without a registry: the
# files of the packages and the shared libraries they load are copied into
# a root file system that `docker import` turns into an image. Nothing is
# pulled. An image whose label already names the installed package versions
# is kept as it is, so a second run takes a second.
#
# The images behave as the official ones do for what the docker provider
# relies on: POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB, an entrypoint
# that runs initdb into /var/lib/postgresql/data on first start and then the
# command ("postgres -c ..."), port 5432 with password authentication from
# any address; redis-server (and redis-sentinel) on port 6379 in /data.
#
# Usage: build.sh [postgres-image] [redis-image]
set -euo pipefail

PG_IMAGE=${1:-ghostbench/postgres:15-debian}
REDIS_IMAGE=${2:-ghostbench/redis:7-debian}
here=$(cd "$(dirname "$0")" && pwd)

pg_major=15
pg_bin=/usr/lib/postgresql/$pg_major/bin
pg_pkgs="postgresql-$pg_major postgresql-client-$pg_major"
redis_pkgs="redis-tools redis-server redis-sentinel"

fail() { echo "docker-images: $*" >&2; exit 1; }
command -v docker >/dev/null 2>&1 || fail "no docker CLI"
[ -x "$pg_bin/postgres" ] || fail "PostgreSQL $pg_major is not installed in $pg_bin (make deps installs it)"
command -v redis-server >/dev/null 2>&1 || fail "redis-server is not installed (make deps installs it)"

# versions names the installed packages and this build's files, so that an
# image is rebuilt when either changes.
build_hash=$(cat "$here/build.sh" "$here/rootfs.py" "$here/postgres-entrypoint.sh" | sha256sum | cut -c1-12)
versions() { echo "$(dpkg-query -W -f '${Package}=${Version} ' "$@")build=$build_hash"; }

# rootfs makes dir a root file system of the packages and binaries given
# (see rootfs.py) with users postgres and redis.
rootfs() {
	local dir=$1; shift
	python3 "$here/rootfs.py" "$dir" "$@"
	ln -sf dash "$dir"/usr/bin/sh
	cat >"$dir"/etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
postgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh
redis:x:999:999:Redis:/data:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
	cat >"$dir"/etc/group <<'GROUP'
root:x:0:
postgres:x:999:
redis:x:999:
nogroup:x:65534:
GROUP
	printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$dir"/etc/nsswitch.conf
	printf '127.0.0.1 localhost\n' >"$dir"/etc/hosts
}

# import turns dir into image; the directories the server writes are
# world-writable with the sticky bit, so that the files need no owner but
# root and the build no privilege.
import() {
	local dir=$1 image=$2 label=$3; shift 3
	local previous
	previous=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
	tar --numeric-owner --owner=0 --group=0 -C "$dir" -c . |
		docker import --change "LABEL ghostbench.packages=\"$label\"" "$@" - "$image" >/dev/null
	# The image it replaces, now untagged, goes unless a container uses it.
	[ -z "$previous" ] || docker image rm "$previous" >/dev/null 2>&1 || true
}

# current reports whether image exists and was built from the installed
# packages.
current() {
	local image=$1 label=$2 got
	got=$(docker image inspect -f '{{index .Config.Labels "ghostbench.packages"}}' "$image" 2>/dev/null) || return 1
	[ "$got" = "$label" ]
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # the host's postgres user makes the prepared cluster in it

pg_label=$(versions $pg_pkgs)
if current "$PG_IMAGE" "$pg_label"; then
	echo "docker-images: $PG_IMAGE is up to date ($pg_label)"
else
	start=$(date +%s)
	# shellcheck disable=SC2086
	rootfs "$work/pg" $pg_pkgs -- dash mkdir mktemp rm cat cp chmod
	# Time zones: PostgreSQL uses the system's.
	mkdir -p "$work/pg/usr/share/zoneinfo"
	cp -a /usr/share/zoneinfo/Etc /usr/share/zoneinfo/UTC "$work/pg/usr/share/zoneinfo/"
	# The C.UTF-8 locale of LANG (initdb refuses a locale it cannot load).
	mkdir -p "$work/pg/usr/lib/locale"
	cp -a /usr/lib/locale/C.utf8 "$work/pg/usr/lib/locale/"
	mkdir -p "$work/pg/var/lib/postgresql" "$work/pg/var/run/postgresql" "$work/pg/usr/local/bin"
	chmod 1777 "$work/pg/var/lib/postgresql" "$work/pg/var/run/postgresql"
	install -m 0755 "$here/postgres-entrypoint.sh" "$work/pg/usr/local/bin/docker-entrypoint.sh"
	# The cluster the docker provider asks for (user, database, trusted
	# connections), made now by the host's initdb as its postgres user, so
	# that a container starts without one; readable by all, as the files
	# belong to root in the image and the container copies them.
	if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
		tdir=$work/pg/usr/share/ghostbench
		mkdir -p "$tdir" && chown postgres "$tdir"
		if ! runuser -u postgres -- env PATH="$pg_bin:/usr/bin:/bin" LANG=C.UTF-8 \
			POSTGRES_USER=ghostbench POSTGRES_DB=ghostbench POSTGRES_HOST_AUTH_METHOD=trust \
			"$work/pg/usr/local/bin/docker-entrypoint.sh" --init "$tdir/pgdata-template" >"$work/template.log" 2>&1; then
			echo "docker-images: no prepared cluster in the image (containers run initdb): $(tail -3 "$work/template.log")" >&2
			rm -rf "$tdir/pgdata-template"
		fi
		chmod -R a+rX "$tdir"
		chown -R root:root "$tdir"
	fi
	import "$work/pg" "$PG_IMAGE" "$pg_label" \
		--change "ENV PATH=$pg_bin:/usr/local/bin:/usr/bin PGDATA=/var/lib/postgresql/data LANG=C.UTF-8" \
		--change "USER postgres" \
		--change "WORKDIR /var/lib/postgresql" \
		--change "EXPOSE 5432" \
		--change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
		--change 'CMD ["postgres"]'
	echo "docker-images: built $PG_IMAGE from $pg_label in $(($(date +%s) - start))s ($(du -sh "$work/pg" | cut -f1))"
fi

redis_label=$(versions $redis_pkgs)
if current "$REDIS_IMAGE" "$redis_label"; then
	echo "docker-images: $REDIS_IMAGE is up to date ($redis_label)"
else
	start=$(date +%s)
	# shellcheck disable=SC2086
	rootfs "$work/redis" $redis_pkgs -- dash
	mkdir -p "$work/redis/data"
	chmod 1777 "$work/redis/data"
	import "$work/redis" "$REDIS_IMAGE" "$redis_label" \
		--change "ENV PATH=/usr/local/bin:/usr/bin" \
		--change "USER redis" \
		--change "WORKDIR /data" \
		--change "EXPOSE 6379" \
		--change 'CMD ["redis-server"]'
	echo "docker-images: built $REDIS_IMAGE from $redis_label in $(($(date +%s) - start))s ($(du -sh "$work/redis" | cut -f1))"
fi
